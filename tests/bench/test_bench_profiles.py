"""Where the time goes (bench/profiles.py): the warm profiles and the import-time breakdown, measured briefly on a
real server, and how their lines are read and shortened."""

from __future__ import annotations

import sysconfig

import pytest

from bench.__main__ import QUICK, run_worker
from bench.cold import Layout
from bench.profiles import PROFILED, ImportRow, by_package, label, parse_importtime, short_path
from dev.template import REPO_ROOT
from tests.support import RedisServer


def test_paths_are_shown_from_the_repository_site_packages_a_built_layer_or_the_standard_library() -> None:
    stdlib = sysconfig.get_paths()["stdlib"]

    assert short_path(str(REPO_ROOT / "layers/actionlog/actionlog/http.py")) == "layers/actionlog/actionlog/http.py"
    assert short_path("/x/.venv/lib/python3.13/site-packages/redis/client.py") == "redis/client.py"
    assert short_path("/tmp/build/ActionlogLayer/python/actionlog/http.py") == "actionlog/http.py"
    assert short_path(f"{stdlib}/json/encoder.py") == "<stdlib>/json/encoder.py"
    assert label(("~", 0, "<method 'sendall' of '_socket.socket' objects>")) == (
        "<method 'sendall' of '_socket.socket' objects>"
    )


def test_importtime_lines_give_each_module_its_depth_and_times() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |     redis.utils\n"
        "import time:      2000 |       5500 |   redis\n"
        "import time:      1800 |     173100 | app\n"
    )

    assert parse_importtime(stderr) == {
        "redis.utils": (2, 0.12, 0.12),
        "redis": (1, 2.0, 5.5),
        "app": (0, 1.8, 173.1),
    }


def test_the_import_time_by_package_sums_its_modules_own_time() -> None:
    rows = [ImportRow("app", 0, 1.0, 10.0), ImportRow("redis", 1, 2.0, 8.0), ImportRow("redis.client", 2, 5.0, 5.0)]

    assert by_package(rows) == (("redis", 7.0), ("app", 1.0))


@pytest.mark.redis_server
def test_the_profiles_name_the_functions_of_warm_calls_by_short_paths(bench_server: RedisServer) -> None:
    profiles = run_worker("profiles", QUICK._replace(warm_up_calls=5, profile_calls=20), bench_server.url)

    assert [profile.name for profile in profiles] == list(PROFILED)
    assert [profile.calls for profile in profiles] == [20, 4]
    for profile in profiles:
        assert 0 < len(profile.rows) <= 15
        assert profile.per_call_us > 0
        assert not any(str(REPO_ROOT) in row.function or "_lsprof" in row.function for row in profile.rows)


@pytest.mark.redis_server
def test_the_import_times_of_a_cold_start_are_led_by_the_app_module(bench_server: RedisServer) -> None:
    imports = Layout().import_times("log_action", bench_server.url, 1)

    assert imports.rows[0].module == "app"
    assert imports.total_ms == imports.rows[0].cumulative_ms > 0
    assert any(row.module.startswith("actionlog") for row in imports.rows)
    assert {"redis", "actionlog"} <= {package for package, _ in imports.packages}
