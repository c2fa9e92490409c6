"""画图时的中文字体：找一个已安装的中文字体；找不到就改用英文标签，并提示怎样安装。

matplotlib 默认字体没有中文字形，中文会变成一个个方框。讲义和训练脚本都这样用：

    from step5_rlhf.plots import setup_chinese_font, label
    setup_chinese_font()                 # 返回找到的字体名，找不到时返回 None
    ax.set_title(label("损失", "loss"))   # 有中文字体时用中文，否则用英文
"""

import warnings

# Preferred order: common on Linux first, then macOS / Windows names.
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans SC", "Source Han Sans SC",
    "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei",
    "PingFang SC", "Heiti SC", "Heiti TC", "STHeiti", "Hiragino Sans GB", "Arial Unicode MS",
    "AR PL UMing CN", "AR PL UKai CN", "Droid Sans Fallback",
)
INSTALL_HINT = (
    "没有找到中文字体，图里的文字改用英文。安装一个中文字体后重启内核即可显示中文："
    "Debian/Ubuntu 运行 sudo apt-get install fonts-noto-cjk（或 fonts-wqy-microhei）；"
    "macOS 和 Windows 自带中文字体。"
)

_state = {"font": None, "done": False, "warned": False}


def installed_fonts() -> set:
    """matplotlib 能找到的全部字体名。"""
    from matplotlib import font_manager

    return {entry.name for entry in font_manager.fontManager.ttflist}


def find_chinese_font():
    """已安装的第一个中文字体名；没有就返回 None。"""
    names = installed_fonts()
    return next((name for name in CJK_FONTS if name in names), None)


def setup_chinese_font():
    """让 matplotlib 用中文字体画图；返回字体名，找不到时返回 None（并只提示一次怎样安装）。"""
    import matplotlib

    font = find_chinese_font()
    _state.update(font=font, done=True)
    if font:
        families = matplotlib.rcParams["font.sans-serif"]
        matplotlib.rcParams["font.sans-serif"] = [font] + [f for f in families if f != font]
        matplotlib.rcParams["font.family"] = "sans-serif"
        matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack the U+2212 minus glyph
    elif not _state["warned"]:
        _state["warned"] = True
        warnings.warn(INSTALL_HINT, stacklevel=2)
    return font


def has_chinese_font() -> bool:
    """当前是否在用中文字体（第一次调用时会自动 setup）。"""
    if not _state["done"]:
        setup_chinese_font()
    return _state["font"] is not None


def label(chinese: str, english: str) -> str:
    """有中文字体时返回中文标签，否则返回英文标签。"""
    return chinese if has_chinese_font() else english


def show_step_panels(fig, axes) -> None:
    """Panels whose x axis is the training step: label, grid and legend on each, then show the figure."""
    import matplotlib.pyplot as plt

    for ax in axes:
        ax.set_xlabel(label("训练步数", "step"))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    plt.show()
