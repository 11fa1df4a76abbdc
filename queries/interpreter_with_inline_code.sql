-- id: interpreter_with_inline_code
-- title: Interpreter running inline code that decodes, downloads or
--   connects
-- severity: high
-- techniques: T1059.004, T1059.006, T1059.007, T1140, T1105
-- description: Lists interpreters (python, perl, ruby, php, node, and the
--   shells bash, sh, dash, zsh and ksh) that run code given on the command
--   line with -c, -e, -E, -r, -p, --eval or --print. The code must also
--   decode base64, pipe text into a shell or interpreter, use bash's
--   /dev/tcp, or open a network socket or a child process. These are the
--   one-liners that droppers and reverse shells use. The pattern column
--   names the first kind that matched.
-- triage: Read the whole cmdline: decode any base64 (in a sandbox, never by
--   piping it into a shell) and note every URL, address and port. Check the
--   parent (ppid) to find what started the one-liner, such as a web server,
--   cron or a login shell, and the user. Look for files it downloaded and
--   for connections to the addresses it names.
-- false_positives: Installers run as curl ... | sh (Docker, rustup, nvm,
--   Homebrew), configuration management and CI jobs that pass encoded
--   scripts, and one-liners that use a socket for a health check.

SELECT * FROM (
  SELECT host, pid, ppid, name, exe, cmdline, uid, user, cwd,
    CASE
      WHEN REGEXP_LIKE(cmdline, 'base64 +(-d|--decode|-D)|b64decode|decode_base64|base64_decode|from_base64|atob[(]|[''"]base64[''"]', 'i') THEN 'base64 decoding'
      WHEN REGEXP_LIKE(cmdline, '[|] *(sudo +)?((ba|da|z|k)?sh|python[0-9.]*|perl|ruby|php|node)( |$)', 'c') THEN 'pipe into a shell or interpreter'
      WHEN REGEXP_LIKE(cmdline, '/dev/(tcp|udp)/', 'c') THEN 'bash /dev/tcp connection'
      WHEN REGEXP_LIKE(cmdline, 'socket|fsockopen|child_process|pty[.]spawn', 'i') THEN 'network socket or child process'
    END AS pattern
  FROM processes
  WHERE REGEXP_LIKE(name, '^(python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|php[0-9.]*|node|nodejs|bash|sh|dash|zsh|ksh)$', 'c')
    AND REGEXP_LIKE(cmdline, '(^| )(-[A-Za-z]*[ceEpr]|--eval|--print)( |$)', 'c')
) AS candidates
WHERE pattern IS NOT NULL
ORDER BY host, pid
