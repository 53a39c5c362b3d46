"""`stackrig scan` through the real CLI in a subprocess, against the session's running stack (and one
stack brought up for the scan): the JSON, the table grouped by kind, the exit codes, and every error
a user can make — each exits 2 with a message that names what was wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scanhelpers import APPS, scan_cli

pytestmark = pytest.mark.slow


def test_json_prints_the_findings_and_exits_1_on_a_high_one(scan_stack, tokens: dict[str, str]) -> None:  # noqa: ANN001
    done = scan_cli("scan", "vulnerable", "--json", "--checks", "xss,path-traversal", "--checks", "missing-auth",
                    "--auth", f"Authorization: Bearer {tokens['vulnerable']}", cwd=scan_stack.folder)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)  # stdout is the JSON and nothing else
    assert set(data) == {"findings"}
    got = {(f["kind"], f["operation"], f["parameter"]) for f in data["findings"]}
    assert got == {("xss", "GET /greet", "name"), ("path-traversal", "GET /files", "filename"),
                   ("missing-auth", "GET /admin/users", "Authorization"),
                   ("missing-auth", "GET /account", "Authorization")}
    assert "4 findings at or above high" in done.stderr
    assert "note: missing-auth: no expired-token variant" in done.stderr


def test_the_table_is_grouped_by_kind_with_a_curl_line_per_finding(scan_stack) -> None:  # noqa: ANN001
    done = scan_cli("scan", "vulnerable", "--checks", "cors,rate-limit,xss", cwd=scan_stack.folder)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert out.index("xss (1)") < out.index("cors (2)") < out.index("rate-limit (1)")
    assert "SEVERITY  OPERATION" in out and "GET /greet" in out and "POST /login" in out
    assert out.count("\n      curl -sS -i ") == 4
    assert "4 findings: 3 high, 1 medium" in out
    assert "scan: service 'vulnerable' of the running stack" in done.stderr


def test_fail_on_decides_the_exit_code(scan_stack) -> None:  # noqa: ANN001
    medium_only = ("scan", "vulnerable", "--checks", "rate-limit")
    assert scan_cli(*medium_only, cwd=scan_stack.folder).returncode == 0  # default: high
    assert scan_cli(*medium_only, "--fail-on", "MEDIUM", cwd=scan_stack.folder).returncode == 1
    assert scan_cli(*medium_only, "--fail-on", "low", "--json", cwd=scan_stack.folder).returncode == 1


def test_the_fixed_twin_exits_0(scan_stack, tokens: dict[str, str]) -> None:  # noqa: ANN001
    done = scan_cli("scan", "fixed", "--json", "--fail-on", "low", "--max-examples", "3", "--seed", "2",
                    "--delay", "1", "--auth", f"Authorization: Bearer {tokens['fixed']}", "--jwt-secret",
                    "fixed-secret-0123456789abcdef0123", cwd=scan_stack.folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == {"findings": []}


def test_an_openapi_file_instead_of_the_service_s_url(scan_stack, tmp_path: Path) -> None:  # noqa: ANN001
    import httpx

    schema = httpx.get(scan_stack.urls["vulnerable"] + "/openapi.json").json()
    schema["paths"] = {"/greet": schema["paths"]["/greet"]}
    path = tmp_path / "greet-only.json"
    path.write_text(json.dumps(schema))
    done = scan_cli("scan", "vulnerable", "--openapi", str(path), "--checks", "xss", "--json", cwd=scan_stack.folder)
    assert done.returncode == 1, done.stderr
    assert [f["operation"] for f in json.loads(done.stdout)["findings"]] == ["GET /greet"]
    assert "scan: 1 operation of " in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--openapi", "http://127.0.0.1:9/openapi.json"],
     "cannot fetch the OpenAPI schema at http://127.0.0.1:9/openapi.json: the connection failed"),
    (["--openapi", "@SERVICE@/nope.json"], "/nope.json: it answered 404 Not Found"),
    (["--openapi", "@DIR@/not-openapi.json"],
     "not-openapi.json is not an OpenAPI document: it has neither an 'openapi' nor a 'swagger' field"),
    (["--openapi", "@DIR@/broken.json"], "broken.json is not valid JSON: Expecting property name enclosed in "
                                         "double quotes (line 2, column 1)"),
    (["--openapi", "@DIR@/broken.yaml"], "broken.yaml is neither JSON nor valid YAML"),
    (["--openapi", "@DIR@/no-paths.json"], "no-paths.json is not valid: it has no 'paths'"),
    (["--openapi", "@DIR@/missing.json"], "no OpenAPI file at "),
    (["--auth", "Bearer abc"], "--auth 'Bearer abc' is not a header: no ':' between the header's name and value"),
    (["--auth", "Bad Name: x"], "the header name has characters a header name cannot have"),
    (["--auth", "Authorization:"], "--auth 'Authorization:' is not a header: the value is empty"),
    (["--fail-on", "critical"], "unknown severity 'critical': use one of high, medium, low"),
    (["--checks", "xss,sqli"], "unknown check: sqli"),
])
def test_bad_arguments_exit_2_and_say_what_was_wrong(scan_stack, tmp_path: Path, args: list[str],  # noqa: ANN001
                                                     message: str) -> None:
    (tmp_path / "not-openapi.json").write_text('{"hello": "world"}')
    (tmp_path / "broken.json").write_text('{"openapi": "3.1.0", "paths": {\n')
    (tmp_path / "broken.yaml").write_text("openapi: 3.0.0\npaths:\n  /x: [\n")
    (tmp_path / "no-paths.json").write_text('{"openapi": "3.0.3", "info": {}}')
    args = [a.replace("@DIR@", str(tmp_path)).replace("@SERVICE@", scan_stack.urls["vulnerable"]) for a in args]
    done = scan_cli("scan", "vulnerable", "--checks", "xss", *args, cwd=scan_stack.folder)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert done.stderr.count("error: ") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_unknown_service_and_a_service_without_http(scan_stack) -> None:  # noqa: ANN001
    done = scan_cli("scan", "vulnrable", cwd=scan_stack.folder)
    assert done.returncode == 2
    assert "no service named 'vulnrable' in the running stack" in done.stderr
    assert "(did you mean 'vulnerable'?); services: db, vulnerable, fixed" in done.stderr
    done = scan_cli("scan", "db", cwd=scan_stack.folder)
    assert done.returncode == 2
    assert "service 'db' has no HTTP URL (its URL: postgresql://" in done.stderr


def test_a_missing_service_argument_is_a_usage_error(scan_stack) -> None:  # noqa: ANN001
    done = scan_cli("scan", cwd=scan_stack.folder)
    assert done.returncode == 2 and "Missing argument 'SERVICE'" in done.stderr


def test_without_a_running_stack_the_scan_brings_one_up_and_down(tmp_path: Path) -> None:
    (tmp_path / "stackrig.toml").write_text(
        "[services.app]\nkind = \"process\"\n"
        f"cwd = \"{APPS}\"\n"
        "command = \"${python} -m uvicorn fixed:app --host 127.0.0.1 --port ${self.port} --log-level warning\"\n"
        f"env = {{ APP_DATA = \"{tmp_path / 'data'}\" }}\n"
        "ready = { http = \"/health\" }\n")
    unknown = scan_cli("scan", "api", cwd=tmp_path)  # checked against the file before anything starts
    assert unknown.returncode == 2
    assert f"no service named 'api' in the stack file {tmp_path / 'stackrig.toml'}" in unknown.stderr
    assert "services: app" in unknown.stderr
    done = scan_cli("scan", "app", "--checks", "xss,cors,path-traversal", "--fail-on", "low", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "service 'app' of the stack brought up for this scan" in done.stderr
    assert "no findings" in done.stdout
    assert not (tmp_path / ".stackrig" / "current.json").exists()


def test_no_stack_file_exits_2(tmp_path: Path) -> None:
    done = scan_cli("scan", "api", cwd=tmp_path)
    assert done.returncode == 2 and "no stackrig.toml" in done.stderr
