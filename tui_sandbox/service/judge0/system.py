"""What this server says of itself in Judge0's words: /about (the Judge0 API version it
speaks, which the official SDK reads to resolve its language aliases), /config_info (our
defaults and ceilings in Judge0's names and units) and /system_info (the host's CPUs and
memory, as Judge0's lscpu and free do)."""

from __future__ import annotations

import os
import platform

from runner import Limits

from ..interface import Service

# The Judge0 CE release whose API is served here (its SDK's table of language ids).
JUDGE0_VERSION = "1.13.1"
MAX_BATCH = 20


def about(version: str) -> dict:
    return {"version": JUDGE0_VERSION, "homepage": None, "source_code": None,
            "maintainer": f"tui-sandbox {version}, serving Judge0 CE {JUDGE0_VERSION}'s API"}


def config_info(service: Service) -> dict:
    """Judge0's configuration: what may be asked here, and the defaults, in its units
    (seconds, KB). The CPU time is what the CPU share gives over the wall clock."""
    ceilings, defaults = service.ceilings, service.ceilings.default_limits(Limits())
    return {
        "maintenance_mode": service.stopping, "enable_wait_result": True, "enable_compiler_options": False,
        "allowed_languages_for_compile_options": [], "enable_command_line_arguments": False,
        "enable_submission_delete": True, "enable_callbacks": False, "callbacks_max_tries": 0,
        "callbacks_timeout": 0.0, "enable_additional_files": False, "max_queue_size": service.queue.total,
        "cpu_time_limit": defaults.cpus * defaults.timeout, "max_cpu_time_limit": ceilings.cpus * ceilings.timeout,
        "cpu_extra_time": 0.0, "max_cpu_extra_time": 0.0,
        "wall_time_limit": defaults.timeout, "max_wall_time_limit": ceilings.timeout,
        "memory_limit": defaults.memory // 1024, "max_memory_limit": ceilings.memory // 1024,
        "stack_limit": 0, "max_stack_limit": 0,
        "max_processes_and_or_threads": defaults.pids, "max_max_processes_and_or_threads": ceilings.pids,
        "enable_per_process_and_thread_time_limit": False, "allow_enable_per_process_and_thread_time_limit": False,
        "enable_per_process_and_thread_memory_limit": False,
        "allow_enable_per_process_and_thread_memory_limit": False,
        "max_file_size": defaults.file_size // 1024, "max_max_file_size": defaults.file_size // 1024,
        "number_of_runs": 1, "max_number_of_runs": 1, "redirect_stderr_to_stdout": False, "max_extract_size": 0,
        "enable_batched_submissions": True, "max_submission_batch_size": MAX_BATCH,
        "submission_cache_duration": 0.0, "use_docs_as_homepage": False,
        "allow_enable_network": ceilings.network, "enable_network": defaults.network,
    }


def system_info() -> dict:
    info = {"Architecture": platform.machine(), "CPU(s)": str(os.cpu_count() or 1)}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    info["Model name"] = line.partition(":")[2].strip()
                    break
        with open("/proc/meminfo") as meminfo:
            sizes = dict(line.split(":", 1) for line in meminfo if ":" in line)
        for ours, theirs in (("Mem", "MemTotal"), ("Swap", "SwapTotal")):
            info[ours] = f"{int(sizes[theirs].split()[0]) / (1024 * 1024):.1f}Gi"
    except (OSError, KeyError, ValueError):
        pass      # not Linux: the architecture and CPUs only
    return info
