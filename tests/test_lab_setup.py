"""`step5-rlhf lab-setup`: a student's JupyterLab speaks Chinese and hides nbgrader's instructor panels."""

import json


from step5_rlhf.cli import main
from step5_rlhf.commands import lab_setup



def test_student_setup_and_back(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))
    monkeypatch.delenv("JUPYTERLAB_SETTINGS_DIR", raising=False)
    assert main(["lab-setup"]) == 0
    settings = tmp_path / "jupyter" / "lab" / "user-settings" / lab_setup.TRANSLATION_PLUGIN
    assert json.loads(settings.read_text(encoding="utf-8"))["locale"] == "zh_CN"
    page_config = json.loads((tmp_path / "jupyter" / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    disabled = page_config["disabledExtensions"]
    assert all(disabled.get(plugin) is True for plugin in lab_setup.INSTRUCTOR_PLUGINS)
    assert "@jupyter/nbgrader:validate-assignment" not in disabled  # students keep Validate
    server = json.loads((tmp_path / "jupyter" / "jupyter_server_config.json").read_text(encoding="utf-8"))
    assert server["ServerApp"]["jpserver_extensions"][lab_setup.FORMGRADER_SERVER] is False
    assert "nbgrader 的教师面板已关闭" in capsys.readouterr().out
    news = tmp_path / "jupyter" / "lab" / "user-settings" / lab_setup.NOTIFICATION_PLUGIN
    assert json.loads(news.read_text(encoding="utf-8"))["fetchNews"] == "false"  # no news prompt over the notebook

    assert main(["lab-setup", "--instructor", "--locale", "en"]) == 0
    page_config = json.loads((tmp_path / "jupyter" / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    assert not any(page_config.get("disabledExtensions", {}).get(p) for p in lab_setup.INSTRUCTOR_PLUGINS)
    assert json.loads(settings.read_text(encoding="utf-8"))["locale"] == "en"
