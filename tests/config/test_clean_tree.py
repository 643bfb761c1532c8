"""A test run leaves the checkout as it found it: ``git status`` is clean after ``scripts/test``.

Screenshots go to ``SCREENSHOT_DIR`` (ignored ``ci-artifacts/`` by default), never over the tracked
pictures in ``docs/`` (``scripts/docs-screenshots`` refreshes those on request). ``scripts/test``
runs pytest under ``scripts/leaves-tree-clean``, which fails a run that dirtied a clean tree.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e import test_admin_alerts, test_browser_oauth

ROOT = Path(__file__).resolve().parents[2]
GIT = shutil.which("git")
LEAVES_TREE_CLEAN = ROOT / "scripts" / "leaves-tree-clean"

needs_git = pytest.mark.skipif(GIT is None or not (ROOT / ".git").exists(), reason="needs a git checkout")


def git(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([GIT, *args], cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603


@needs_git
@pytest.mark.parametrize(
    "path",
    [
        test_admin_alerts.SCREENSHOT,
        *(test_browser_oauth.SCREENSHOTS / name for name in ("sign-in.png", "consent.png", "connected-apps.png")),
    ],
    ids=lambda path: path.name,
)
def test_screenshots_are_written_where_git_does_not_look(path):
    inside = path.resolve().is_relative_to(ROOT)

    assert git("ls-files", "--error-unmatch", str(path)).returncode != 0, f"{path} is a tracked file"
    assert not inside or git("check-ignore", "-q", str(path)).returncode == 0, f"{path} is not ignored"


@pytest.fixture
def repo(tmp_path):
    """A git repository with one committed file and an ignored folder."""
    for args in (("init", "-q"), ("config", "user.email", "t@example.com"), ("config", "user.name", "t")):
        git(*args, cwd=tmp_path)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "tracked.txt").write_text("as committed\n")
    git("add", ".gitignore", "tracked.txt", cwd=tmp_path)
    git("commit", "-q", "-m", "first", cwd=tmp_path)
    return tmp_path


def leaves_tree_clean(repo: Path, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own script
        [str(LEAVES_TREE_CLEAN), "bash", "-c", command], cwd=repo, capture_output=True, text=True, check=False
    )


@needs_git
@pytest.mark.parametrize(
    "command", ["echo changed > tracked.txt", "touch stray.png"], ids=["tracked file changed", "untracked file"]
)
def test_a_command_that_dirties_a_clean_tree_fails_naming_the_files(repo, command):
    completed = leaves_tree_clean(repo, command)

    assert completed.returncode != 0
    assert ("tracked.txt" if "tracked" in command else "stray.png") in completed.stderr


@needs_git
def test_a_command_that_writes_only_ignored_files_passes(repo):
    completed = leaves_tree_clean(repo, "mkdir -p ignored && touch ignored/shot.png")

    assert completed.returncode == 0, completed.stderr


@needs_git
def test_the_command_s_own_failure_is_kept(repo):
    assert leaves_tree_clean(repo, "exit 3").returncode == 3


@needs_git
def test_a_tree_dirty_before_the_run_is_not_judged(repo):
    (repo / "tracked.txt").write_text("someone's edit\n")

    completed = leaves_tree_clean(repo, "touch stray.png")

    assert completed.returncode == 0
    assert "not checked" in completed.stderr
