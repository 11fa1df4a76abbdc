-- id: traced_process
-- title: Process under ptrace by another process
-- severity: medium
-- techniques: T1055.008
-- description: Lists processes that another process traces with ptrace
--   (TracerPid in status), with the tracer's name and command line. Ptrace
--   lets the tracer read and write the traced process's memory and
--   registers, which attackers use to inject code into a trusted process or
--   to read secrets from sshd, sudo or a password manager.
-- triage: Identify the tracer (tracer_name, tracer_exe, tracer_cmdline) and
--   who runs it. A debugger or strace that an administrator started
--   explains the hit. A tracer running from /tmp, a tracer with an unusual
--   name, or a traced sshd, sudo, su, login or browser process is
--   suspicious: capture both processes' memory and command lines before
--   ending them.
-- false_positives: Sessions of gdb, lldb, strace, ltrace and rr. Crash
--   reporters that attach for a moment. Sandboxes and tools that run
--   programs under ptrace, such as gVisor in ptrace mode and proot.

SELECT p.host, p.pid, p.name, p.exe, p.cmdline, p.uid, p.tracer_pid,
  t.name AS tracer_name, t.exe AS tracer_exe, t.cmdline AS tracer_cmdline, t.uid AS tracer_uid
FROM processes p
LEFT JOIN processes t ON t.pid = p.tracer_pid AND t.host = p.host
WHERE p.tracer_pid > 0
ORDER BY p.host, p.pid
