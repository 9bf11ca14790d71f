"""The runtime table: what differs per OCI runtime, a runtime it does not know taken as
runc-like, the limits check taking any runtime the engine has registered, and which one
a run that names none gets (crun where registered, else runc; never gVisor)."""

import dataclasses

import pytest

from runner import EngineInfo, LimitError, Limits, RuntimeUnavailable, Sandbox
from runner.docker.backend import engine_info
from runner.runtimes import AUTO, KNOWN, RUNC, DefaultRuntime, default_name, default_runtime, ordered, runtime
from runner.units import MiB

ENGINE = EngineInfo(product="Docker", name="Docker 20.10", cpus=2, memory_bytes=4 << 30, min_memory_bytes=6 * MiB,
                    runtimes={"runc": [], "runsc": ["--network=none"], "crun": []})


def test_runc_and_crun_run_on_the_host_kernel_under_our_profile():
    for name in ("runc", "crun"):
        traits = runtime(name)
        assert (traits.own_kernel, traits.seccomp_loaded, traits.guest_sees_cgroup) == (False, True, True)
        assert (traits.guest_process_limit, traits.init_sets_msgqueue, traits.host_pids(64)) == (False, True, 64)
        assert traits.network_refusal([]) is None


def test_gvisor_has_its_own_kernel_and_needs_the_engine_for_what_its_guest_cannot_see():
    gvisor = runtime("runsc")
    assert gvisor.label == "gVisor (runsc)"
    assert gvisor.own_kernel and not gvisor.seccomp_loaded and not gvisor.guest_sees_cgroup
    assert gvisor.guest_process_limit and not gvisor.init_sets_msgqueue
    assert gvisor.host_pids(64) == 64 + 512
    assert gvisor.network_refusal(["--network=none"]) == (
        "gVisor (runsc) is registered here with --network=none: it cannot run with the network on")
    assert gvisor.network_refusal([]) is None         # registered with its networking on


def test_a_runtime_the_table_does_not_know_is_taken_as_runc_like():
    youki = runtime("youki")
    assert youki.name == youki.label == "youki" and "runc-like" in youki.description
    assert youki == dataclasses.replace(RUNC, name="youki", label="youki", description=youki.description,
                                        default_rank=None)


def test_registered_runtimes_are_offered_known_ones_first():
    assert ordered({"youki": [], "crun": [], "runsc": [], "runc": [], "kata": []}) == [
        "runc", "runsc", "crun", "kata", "youki"]


def test_traits_say_what_differs():
    assert "seccomp profile loaded" in runtime("crun").traits([])
    assert "network on allowed" in runtime("crun").traits([])
    gvisor = runtime("runsc").traits(["--network=none"])
    assert "seccomp profile not loaded" in gvisor and "network-on runs refused (--network=none)" in gvisor
    assert "engine's stats" in gvisor and "processes capped inside the guest" in gvisor


def test_known_runtimes_have_a_description_each():
    assert list(KNOWN) == ["runc", "runsc", "crun"]
    assert all(traits.description and traits.label for traits in KNOWN.values())


@pytest.mark.parametrize("name", ["runc", "runsc", "crun"])
def test_limits_take_any_registered_runtime(name):
    assert Limits(runtime=name).validate(ENGINE).runtime == name


def test_an_unregistered_runtime_is_refused_naming_the_ones_there_are():
    with pytest.raises(LimitError) as refused:
        Limits(runtime="kata").validate(ENGINE)
    assert refused.value.message == "unknown runtime 'kata': the engine has crun, runc, runsc"
    assert refused.value.fix == "use --runtime crun or runc or runsc"


def test_a_run_that_names_no_runtime_gets_crun_where_registered_else_runc():
    assert Limits().runtime == AUTO
    assert Limits().resolved(ENGINE.runtimes).runtime == "crun"
    no_crun = {"runc": [], "runsc": ["--network=none"]}
    assert Limits().resolved(no_crun).runtime == "runc"
    # One asked for by name is kept, whatever the default.
    assert Limits(runtime="runc").resolved(ENGINE.runtimes).runtime == "runc"
    assert Limits(runtime="runsc").resolved(no_crun).runtime == "runsc"


def test_gvisor_and_runtimes_the_table_does_not_know_are_never_the_default():
    assert [name for name, known in KNOWN.items() if known.default_rank is not None] == ["runc", "crun"]
    assert runtime("youki").default_rank is None
    with pytest.raises(RuntimeUnavailable) as refused:
        default_runtime({"runsc": [], "youki": []})
    assert refused.value.message == ("no runtime as isolated as runc is registered to run by default (the engine "
                                     "has runsc, youki)")
    assert refused.value.fix == "name one: --runtime runsc"
    assert default_name({"runsc": [], "youki": []}) is None and default_name(["runc", "crun"]) == "crun"


def test_the_default_says_why():
    crun = default_runtime(["runc", "crun", "runsc"])
    assert crun.name == "crun" and crun.why.startswith("registered here; an OCI runtime in C, as isolated as runc")
    assert "faster" in crun.why
    assert default_runtime(["runsc", "runc"]) == DefaultRuntime("runc", "crun is not registered here")


def test_the_limits_check_takes_auto_and_the_engine_resolves_it_without_crun():
    """A Sandbox over an engine that has no crun (its facts made by hand: no Docker API
    here) resolves a run that names none to runc, in its one check."""
    no_crun = dataclasses.replace(ENGINE, runtimes={"runc": [], "runsc": ["--network=none"]})
    assert Limits().validate(no_crun).runtime == AUTO         # nothing to refuse: the engine decides

    class Engine:
        checked: list[Limits] = []

        def info(self) -> EngineInfo:
            return no_crun

        def check(self, limits: Limits) -> None:
            limits.validate(no_crun)
            self.checked.append(limits)

    backend = Engine()
    sandbox = Sandbox(backend=backend)  # type: ignore[arg-type]
    assert sandbox.check(Limits()).runtime == "runc"
    assert sandbox.check(Limits(runtime="runsc")).runtime == "runsc"
    assert [limits.runtime for limits in backend.checked] == ["runc", "runsc"]


def test_docker_info_gives_every_registered_runtime_but_containerds_aliases_of_runc():
    info = engine_info({"ServerVersion": "20.10.24", "NCPU": 2, "Runtimes": {
        "io.containerd.runc.v2": {"path": "runc"}, "io.containerd.runtime.v1.linux": {"path": "runc"},
        "runc": {"path": "runc"}, "crun": {"path": "/usr/bin/crun"},
        "runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}}})
    assert info.runtimes == {"runc": [], "crun": [], "runsc": ["--network=none"]}


def test_the_calls_the_init_watches_are_ones_it_knows_and_the_profile_denies():
    """WATCHED (runner/docker/seccomp.py) names only calls init.c's KNOWN_CALLS has, and
    only calls the profile denies: the init takes over a refusal, it never adds one."""
    import re
    from pathlib import Path

    from runner.docker.seccomp import DENIED, WATCHED, profile, security_option

    init_c = (Path(__file__).resolve().parents[2] / "runner" / "images" / "init.c").read_text()
    known = set(re.findall(r"CALL\((\w+)\)", init_c))
    assert set(WATCHED) <= known and set(WATCHED) <= set(DENIED)
    allowed = {name for rule in profile()["syscalls"] for name in rule["names"]}
    assert not allowed & set(WATCHED), "the plain profile refuses them all"
    watching = security_option(init_watches=True)
    assert all(f'"{name}"' in watching for name in WATCHED)


def test_clone_is_narrowed_by_the_profile_unless_the_init_narrows_it():
    """The plain profile lets clone through only without namespace flags (Docker's mask);
    the watching one lets every clone reach the init, whose filter refuses those flags
    (init.c's NAMESPACE_FLAGS, the same mask) and reports each."""
    import json
    import re
    from pathlib import Path

    from runner.docker.seccomp import INIT_NARROWS, profile, security_option

    def unconditional(rules) -> set[str]:
        return {name for rule in rules if not rule.get("args") and rule["action"] == "SCMP_ACT_ALLOW"
                and not rule["includes"] for name in rule["names"]}

    watching = json.loads(security_option(init_watches=True).removeprefix("seccomp="))
    assert "clone" not in unconditional(profile()["syscalls"])
    assert set(INIT_NARROWS) <= unconditional(watching["syscalls"])
    masks = {arg["value"] for rule in profile()["syscalls"] if "clone" in rule["names"] for arg in rule["args"]}
    init_c = (Path(__file__).resolve().parents[2] / "runner" / "images" / "init.c").read_text()
    assert {int(re.search(r"#define NAMESPACE_FLAGS (0x[0-9A-Fa-f]+)u", init_c).group(1), 16)} == masks
