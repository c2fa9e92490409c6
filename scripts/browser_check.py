"""在真的浏览器里看一遍学生拿到的讲义：公式、表格、图、报错、nbgrader 的 Validate 按钮，每课截图。

    apt-get install chromium            # Debian 的 chromium，headless 运行
    pip install -e ".[browser]"         # playwright：只用它的驱动，不下载它自带的浏览器
    python scripts/browser_check.py --out browser_check

Not in CI (a few minutes, needs chromium). What it does, all in a temporary folder:
1. `step5-rlhf course build` + `course release`: the folder students receive (no reference code), twice:
   as released ("untouched") and with the reference solution as the exercise file ("finished", every TODO done);
2. a private Jupyter config with `step5-rlhf lab-setup` (Chinese interface, no instructor panels), cell
   windowing off so that every cell is in the page;
3. JupyterLab on 127.0.0.1 in the released folder, kernels in student mode with the lessons' small
   experiment setting (the same one the notebook tests use);
4. headless chromium opens each lesson, runs every cell, waits for the kernel, then counts formulas
   (and MathJax errors), tables, images and error outputs, clicks Validate and reads its dialog, and takes
   screenshots of the whole notebook, screen by screen.
The report (report.json, and one line per lesson on stdout) says what a student would trip on.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LESSONS = ("01_preferences.ipynb", "02_ppo_vs_dpo.ipynb", "03_dpo_loss.ipynb", "04_dpo_training.ipynb",
           "05_ppo_vs_dpo_measured.ipynb", "06_dpo_variants_lab.ipynb")
# An answer cell left as released raises NotImplementedError (nbgrader's stub); its check cell then fails on a name;
# lesson 05's answer reads a run that an unfinished exercise skips, and says so in Chinese.
EXPECTED_ERRORS = ("NotImplementedError", "NameError", "先运行上面的比较实验")
MODES = ("untouched", "finished")  # the exercise file as released / with every TODO done (the reference)
SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "train_dpo_solution.py"
CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the open lesson (a failed one may leave its tab behind)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

# Read in the page after a lesson has run: what a student sees.
PAGE_FACTS = r"""() => {
  const all = (selector) => Array.from(document.querySelectorAll(selector));
  const markdown = all('.jp-MarkdownCell .jp-RenderedMarkdown');
  const outputs = all('.jp-OutputArea-output');
  return {
    cells: all('.jp-Cell').length,
    formulas: all('mjx-container').length,
    formula_errors: all('mjx-merror').length + all('.MathJax_Error').length,
    raw_tex_in_markdown: markdown.filter(m => /\\(frac|beta|log|sigma|mathbb)|\$\$/.test(m.innerText)).length,
    tables: all('.jp-Cell table').length,
    images: all('.jp-OutputArea-output img').length,
    error_outputs: outputs.filter(o => /Traceback|Error:/.test(o.innerText) && !/UserWarning|FutureWarning/.test(o.innerText))
      .map(o => o.innerText.split('\n').filter(line => line.trim()).slice(-2).join(' | ').slice(0, 300)),
    busy_prompts: all('.jp-InputArea-prompt').filter(p => p.innerText.includes('*')).length,
  };
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step5(*args, env):
    done = subprocess.run([sys.executable, "-m", "step5_rlhf", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"step5-rlhf {' '.join(args)} 失败：\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def released_folder(root: Path, env) -> Path:
    course = root / "course"
    step5("course", "build", str(course), "--no-wheel", env=env)
    step5("course", "release", str(course), env=env)
    folders = [p.parent for p in (course / "release").rglob("train_dpo_exercise.py")]
    if len(folders) != 1:
        raise SystemExit(f"发布的文件夹不对：{folders}")
    return folders[0]


def start_lab(folder: Path, env, port: int, log: Path):
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root", "--LabApp.expose_app_in_browser=True",
               f"--ServerApp.root_dir={folder}", "--ServerApp.disable_check_xsrf=True"]
    lab = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    for _ in range(120):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return lab
        except OSError:
            time.sleep(0.5)
    lab.kill()
    raise SystemExit(f"JupyterLab 没有启动，见 {log}")


def screenshots(page, out: Path, stem: str) -> int:
    """The notebook scrolls inside its own panel: one screenshot per screen, top to bottom."""
    scroller = f"{CURRENT} .jp-WindowedPanel-outer"
    height = page.evaluate(f"() => document.querySelector('{scroller}').scrollHeight")
    view = page.evaluate(f"() => document.querySelector('{scroller}').clientHeight")
    count = 0
    for top in range(0, max(1, height), max(1, view - 80)):
        page.evaluate(f"() => document.querySelector('{scroller}').scrollTo(0, {top})")
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / f"{stem}_{count:02d}.png"))
        count += 1
    return count


def check_lesson(page, url, name, out: Path, run_timeout: float) -> dict:
    page.goto(f"{url}/lab/tree/{name}")
    page.wait_for_selector(f"{CURRENT} .jp-Cell", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=120_000)
    started = time.perf_counter()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_timeout(2000)
    page.wait_for_function("() => !Array.from(document.querySelectorAll('.jp-InputArea-prompt'))"
                           ".some(p => p.innerText.includes('*'))", timeout=run_timeout * 1000, polling=1000)
    page.wait_for_timeout(3000)  # formulas typeset after the outputs arrive
    facts = page.evaluate(PAGE_FACTS)
    facts["run_seconds"] = round(time.perf_counter() - started, 1)
    stem = name.removesuffix(".ipynb").replace("/", "_")
    facts["screenshots"] = screenshots(page, out, stem)
    validate = page.locator(f"{CURRENT} button", has_text="Validate")
    if validate.count() == 0:
        validate = page.locator(f"{CURRENT} [title*='alidate'], {CURRENT} button:has-text('验证')")
    facts["validate_button"] = validate.count() > 0
    if facts["validate_button"]:
        validate.first.click()
        dialog = page.wait_for_selector(".jp-Dialog", timeout=run_timeout * 1000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(out / f"{stem}_validate.png"))
        facts["validate_dialog"] = dialog.inner_text()[:2000]
        page.keyboard.press("Escape")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    page.wait_for_timeout(1000)
    return facts


def problems(facts) -> list:
    found = []
    for key in ("formula_errors", "raw_tex_in_markdown", "busy_prompts"):
        if facts.get(key):
            found.append(f"{key} = {facts[key]}")
    # A graded cell whose answer the student has not written yet fails by design; anything else is a finding.
    unexpected = [e for e in facts.get("error_outputs", []) if not any(mark in e for mark in EXPECTED_ERRORS)]
    if unexpected:
        found.append(f"报错的输出：{unexpected}")
    if not facts.get("validate_button"):
        found.append("没有找到 Validate 按钮")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="browser_check", help="截图和 report.json 的文件夹")
    parser.add_argument("--lessons", nargs="+", default=list(LESSONS))
    parser.add_argument("--run-timeout", type=float, default=600, help="每课运行全部单元的时间上限（秒）")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(root / "jupyter"), JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
                   STEP5_RLHF_STUDENT_MODE="1", STEP5_RLHF_LESSON_SMOKE="1")
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.pop("MPLBACKEND", None)  # the kernel's inline backend, as for a student
        released = released_folder(root, {k: v for k, v in env.items() if k != "STEP5_RLHF_STUDENT_MODE"})  # instructor
        # Two students: one who opens the lessons as released, one whose exercise file passes every TODO.
        folder = root / "students"
        for mode in MODES:
            shutil.copytree(released, folder / mode)
        shutil.copy(SOLUTION, folder / "finished" / "train_dpo_exercise.py")
        step5("lab-setup", env=env)
        tracker = root / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}), encoding="utf-8")  # every cell in the page
        port = free_port()
        lab = start_lab(folder, env, port, out / "jupyterlab.log")
        report = {}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
                for name in (f"{mode}/{lesson}" for mode in MODES for lesson in args.lessons):
                    try:
                        facts = check_lesson(page, f"http://127.0.0.1:{port}", name, out, args.run_timeout)
                    except Exception as error:  # one lesson's failure is a finding, not the end of the check
                        page.screenshot(path=str(out / f"{name.removesuffix('.ipynb').replace('/', '_')}_failed.png"))
                        page.evaluate("() => window.jupyterapp && window.jupyterapp.commands.execute('application:close-all')")
                        facts = {"failed": f"{type(error).__name__}: {error}"[:1000]}
                    facts["problems"] = problems(facts) if "failed" not in facts else [facts["failed"]]
                    report[name] = facts
                    print(f"{name}：{'没有问题' if not facts['problems'] else '；'.join(facts['problems'])}  "
                          + json.dumps({k: v for k, v in facts.items() if k not in ('problems', 'validate_dialog')},
                                       ensure_ascii=False), flush=True)
                browser.close()
        finally:
            lab.terminate()
            lab.wait(timeout=30)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"截图和 report.json 在 {out}")
    return 1 if any(facts["problems"] for facts in report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
