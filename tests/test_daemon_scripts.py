"""The daemon configuration scripts write (daemon/scripts.py), as AIC508-AIC510 read it: which
writes are followed and what they leave, what stays unknown, what a script that writes none costs,
and what the messages say. Positions and the rules' traps are in fixtures/AIC508-AIC510."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicache_lint import buildfiles
from aicache_lint.daemon.config import UNKNOWN, daemon_configs
from aicache_lint.engine import check_source, fix_source
from aicache_lint.settings import Settings
from aicache_lint.source import SourceText


def _written(script: str) -> list:
    """(data, the text a finding covers) of each configuration the script leaves."""
    file = buildfiles.parse(SourceText(script, "scripts/setup.sh"), "shell")
    return [(c.data, script[c.span.start : c.span.end]) for c in daemon_configs(file)]


@pytest.mark.parametrize(("script", "expected"), [
    # whole writes: the heredoc body or the echoed word
    ("sudo tee /etc/docker/daemon.json <<'EOF'\n{\"debug\": true}\nEOF\n", [({"debug": True}, '{"debug": true}')]),
    ("cat > /etc/docker/daemon.json <<EOF\n{\"debug\": true}\nEOF\n", [({"debug": True}, '{"debug": true}')]),
    ("echo '{}' | sudo tee /etc/docker/daemon.json > /dev/null\n", [({}, "'{}'")]),
    ("printf '{\"a\": \"100%%\"}\\n' | sudo tee /etc/docker/daemon.json\n",
     [({"a": "100%"}, "'{\"a\": \"100%%\"}\\n'")]),
    # a script fed to a shell on standard input, and `sudo sh -c`
    ("sudo bash <<'EOF'\ncat > /etc/docker/daemon.json <<'JSON'\n{\"debug\": true}\nJSON\nEOF\n",
     [({"debug": True}, '{"debug": true}')]),
    ("sudo sh -c 'echo {} > /etc/docker/daemon.json'\n", [({}, "{}")]),
    # `$XDG_CONFIG_HOME/docker/daemon.json`: a rootless daemon's file
    ("echo '{}' > \"$XDG_CONFIG_HOME/docker/daemon.json\"\n", [({}, "'{}'")]),
    # unknown parts: a value, a computed key, the whole text
    ("sudo tee /etc/docker/daemon.json <<EOF\n{\"registry-mirrors\": [\"$M\"], \"debug\": true}\nEOF\n",
     [({"registry-mirrors": [UNKNOWN], "debug": True}, '{"registry-mirrors": ["$M"], "debug": true}')]),
    ("sudo tee /etc/docker/daemon.json <<EOF\n{\"builder\": {\"$K\": 1}}\nEOF\n",
     [({"builder": UNKNOWN}, '{"builder": {"$K": 1}}')]),
    ("sudo tee /etc/docker/daemon.json <<EOF\n{\"builder\": $(cat b.json)}\nEOF\n", []),
    ("echo \"{\\\"a\\\": \\\"$M\\\"}\" | sudo tee /etc/docker/daemon.json\n",
     [({"a": UNKNOWN}, '"{\\"a\\": \\"$M\\"}"')]),
    # a jq edit names keys: they are set, to values not known here
    ("echo '{\"debug\": true}' | sudo tee /etc/docker/daemon.json\n"
     "jq '.builder.gc.enabled = true' /etc/docker/daemon.json > /tmp/d.json\nsudo mv /tmp/d.json /etc/docker/daemon.json\n",
     [({"debug": True, "builder": UNKNOWN, "gc": UNKNOWN, "enabled": UNKNOWN}, "'{\"debug\": true}'")]),
    # what is not followed: nothing is said
    ("echo -e '{}' | sudo tee /etc/docker/daemon.json\n", []),  # echo's backslash handling varies
    ("echo '{}' | sudo tee -ai /etc/docker/daemon.json\n", []),
    ("echo '{}' >> /etc/docker/daemon.json\n", []),
    ("echo '{}' | sudo tee /etc/docker/daemon.json\n$SUDO tee /etc/docker/daemon.json < x.json\n", []),
    ("echo '{}' | sudo tee /etc/docker/daemon.json\nsudo cp daemon.json /etc/docker/daemon.json\n", []),
    ("echo '{}' | sudo tee /etc/docker/daemon.json\njq -n '{}' | sudo tee /etc/docker/daemon.json\n", []),
    ("echo '[]' | sudo tee /etc/docker/daemon.json\n", []),
    ("echo '{}' | sudo tee /tmp/docker/daemon.json.new\n", []),
])
def test_writes_followed(script: str, expected: list) -> None:
    assert _written(script) == expected


def test_a_script_without_daemon_json_is_not_tokenized(monkeypatch: pytest.MonkeyPatch) -> None:
    from aicache_lint.dockerfile import shell

    def refuse(*args):
        raise AssertionError("tokenized")

    monkeypatch.setattr(shell, "parse_script", refuse)
    script = "#!/bin/sh\n" + "docker build -t app . && echo '{}' > /etc/docker/config.json\n" * 200
    assert _written(script) == []
    with pytest.raises(AssertionError):
        _written(script + "cat /etc/docker/daemon.json\n")


def test_a_run_keeps_no_script_that_no_rule_can_read(tmp_path: Path) -> None:
    """A script without `daemon.json` or a suppression comment cannot have a finding: its text is
    neither checked nor kept (a repository's install scripts run to megabytes); one with a stale
    suppression comment still gets AIC002."""
    from aicache_lint import api

    (tmp_path / ".git").mkdir()
    (tmp_path / "install.sh").write_text("#!/bin/sh\n" + "kubectl apply -f - <<'EOF'\nkind: ConfigMap\nEOF\n" * 500)
    (tmp_path / "setup.sh").write_text("#!/bin/sh\n# aicache-lint: ignore=AIC508\necho hi\n")
    tasks = [api.Task(str(tmp_path / n), Settings()) for n in ("install.sh", "setup.sh")]
    quiet, stale = api.process_paths(tasks, jobs=1)
    assert (quiet.findings, quiet.original) == ([], None)
    assert [f.code for f in stale.findings] == ["AIC002"]
    assert [f.code for f in check_source(SourceText((tmp_path / "install.sh").read_text(), path="install.sh"),
                                         Settings())] == []


HUB_CACHE = """services:
  cache:
    image: registry:2
    ports: ["5000:5000"]
    environment:
      REGISTRY_PROXY_REMOTEURL: https://registry-1.docker.io
    volumes: [cache:/var/lib/registry]
volumes:
  cache:
"""


def test_messages_name_the_script_and_what_to_write(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(HUB_CACHE)
    (tmp_path / "ci").mkdir()
    script = tmp_path / "ci" / "runner.sh"
    script.write_text("echo '{\"features\": {\"buildkit\": false}}' | sudo tee /etc/docker/daemon.json\n")
    source = SourceText.decode(script.read_bytes(), str(script))
    settings = Settings(select=("AIC508", "AIC509", "AIC510"), unsafe_fixes=True)
    findings = {f.code: f for f in check_source(source, settings)}
    assert set(findings) == {"AIC508", "AIC509", "AIC510"}
    mirror = findings["AIC508"]
    assert mirror.message.startswith("the daemon.json this script writes (`/etc/docker/daemon.json`) sets no")
    assert 'add `"registry-mirrors": ["http://localhost:5000"]` to the JSON it writes' in mirror.message
    assert all(f.fix is None for f in findings.values())
    assert findings["AIC510"].message.startswith("`features.buildkit: false` in the daemon.json this script writes")
    assert not fix_source(source, settings).changed
