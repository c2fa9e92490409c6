"""`step5-rlhf lab-setup`: a student's JupyterLab — Chinese interface, no instructor-only nbgrader panels.

It changes only the current user's Jupyter settings (~/.jupyter, or $JUPYTER_CONFIG_DIR):
* the interface language zh_CN (needs jupyterlab-language-pack-zh-CN, in the notebooks extra);
* nbgrader's Formgrader, Create Assignment and Course List panels off (Validate stays);
* nbgrader's formgrader server extension off;
* JupyterLab's "receive Jupyter news?" prompt answered no (it covers the notebook's corner in class).
`--instructor` turns the nbgrader panels back on.
"""

import json
import os
from pathlib import Path

INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list")
FORMGRADER_SERVER = "nbgrader.server_extensions.formgrader"
TRANSLATION_PLUGIN = Path("@jupyterlab") / "translation-extension" / "plugin.jupyterlab-settings"
NOTIFICATION_PLUGIN = Path("@jupyterlab") / "apputils-extension" / "notification.jupyterlab-settings"


def configure(parser):
    parser.add_argument("--instructor", action="store_true", help="教师用：重新打开 nbgrader 的教师面板")
    parser.add_argument("--locale", default="zh_CN", help="界面语言（默认 zh_CN；en 为英文）")


def config_dir() -> Path:
    return Path(os.environ.get("JUPYTER_CONFIG_DIR") or Path.home() / ".jupyter")


def settings_dir() -> Path:
    override = os.environ.get("JUPYTERLAB_SETTINGS_DIR")
    return Path(override) if override else config_dir() / "lab" / "user-settings"


def _update_json(path: Path, change) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def set_locale(locale: str) -> Path:
    return _update_json(settings_dir() / TRANSLATION_PLUGIN, lambda settings: settings.update(locale=locale))


def set_no_news() -> Path:
    return _update_json(settings_dir() / NOTIFICATION_PLUGIN, lambda settings: settings.update(fetchNews="false"))


def set_formgrader(enabled: bool) -> Path:
    """The user-level server config overrides the environment's (where nbgrader enables the formgrader).

    Written directly: `jupyter server extension disable` refuses nbgrader's formgrader module ("could not be found").
    """
    def change(config):
        config.setdefault("ServerApp", {}).setdefault("jpserver_extensions", {})[FORMGRADER_SERVER] = enabled

    return _update_json(config_dir() / "jupyter_server_config.json", change)


def set_instructor_panels(enabled: bool) -> Path:
    """JupyterLab's user-level page config: the same file `jupyter labextension disable --level=user` writes."""
    def change(config):
        disabled = config.setdefault("disabledExtensions", {})
        for plugin in INSTRUCTOR_PLUGINS:
            if enabled:
                disabled.pop(plugin, None)
            else:
                disabled[plugin] = True

    return _update_json(config_dir() / "labconfig" / "page_config.json", change)


def run(args) -> int:
    path = set_locale(args.locale)
    print(f"界面语言设为 {args.locale}（{path}）；在 JupyterLab 里也可以用 Settings → Language 切换")
    set_instructor_panels(enabled=args.instructor)
    set_formgrader(enabled=args.instructor)
    set_no_news()
    if args.instructor:
        print("nbgrader 的教师面板（Formgrader、Create Assignment、Course List）已打开")
    else:
        print("nbgrader 的教师面板已关闭，只保留 Validate 等学生用的功能")
    print(f"设置写在 {config_dir()}；重新启动 jupyter lab 后生效。")
    return 0
