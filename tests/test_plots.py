"""中文字体：有中文字体时不出现缺字警告；没有时改用英文标签，并只提示一次怎样安装。"""

import warnings

import pytest

from step5_rlhf import plots


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    import matplotlib

    monkeypatch.setattr(plots, "_state", {"font": None, "done": False, "warned": False})
    with matplotlib.rc_context():
        yield


def test_without_chinese_font_labels_fall_back_and_warn_once(monkeypatch):
    monkeypatch.setattr(plots, "installed_fonts", lambda: {"DejaVu Sans"})
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        assert plots.setup_chinese_font() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second call stays quiet
        assert plots.setup_chinese_font() is None
    assert plots.label("损失", "loss") == "loss"


def test_with_chinese_font_labels_are_chinese(monkeypatch):
    import matplotlib

    monkeypatch.setattr(plots, "installed_fonts", lambda: {"DejaVu Sans", "WenQuanYi Micro Hei"})
    assert plots.setup_chinese_font() == "WenQuanYi Micro Hei"
    assert matplotlib.rcParams["font.sans-serif"][0] == "WenQuanYi Micro Hei"
    assert plots.label("损失", "loss") == "损失"


def test_installed_font_draws_chinese_without_missing_glyph_warnings(tmp_path):
    font = plots.find_chinese_font()
    if font is None:
        pytest.skip("这台机器没有中文字体（CI 会安装 fonts-wqy-microhei）")
    import matplotlib.pyplot as plt

    plots.setup_chinese_font()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("DPO 训练曲线：奖励间隔 −1")
        fig.savefig(tmp_path / "zh.png")
        plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]
