-- id: secrets_in_environment
-- title: Credentials in process environments
-- severity: low
-- techniques: T1552
-- description: Lists environment variables that look like credentials, so
--   they can be rotated when the host is compromised: anyone who can read
--   /proc/<pid>/environ (the same user, or root) can read them. A variable
--   matches by its name, in any case: a name that contains PASSWORD,
--   PASSWD, PASSPHRASE or SECRET, or ends in PASS, TOKEN, API_KEY, APIKEY,
--   ACCESS_KEY, PRIVATE_KEY or _PWD. It also matches by its value: a URL
--   with a password (with or without a user), a GitHub, GitLab or Slack token, an AWS
--   access key id, or a PEM private key. Names ending in _FILE, _DIR or
--   _PATH are skipped because they name a location, not a secret. The value
--   is never shown: redacted_value keeps the first 4 characters of values
--   of 12 characters or more, followed by ****, and value_length gives the
--   length.
-- triage: Note the variable, the process and its user. If the host is
--   compromised, rotate every credential listed and look for its use
--   elsewhere (cloud audit logs, Git hosting logs). To see the value
--   itself, query the environ table for that pid and name on a trusted
--   terminal. Move long-lived secrets out of environments into files with
--   tight permissions or a secret manager.
-- false_positives: Variables named like secrets that hold something else,
--   such as a secret's name or a URL without credentials, and example or
--   placeholder values in development environments.

-- Scan environ first, testing the conditions on e in the scan, and look
-- up the process of each row that passes. The planner would otherwise look
-- up the environ of every process, one pid at a time.
SELECT /*+ JOIN_ORDER(e, p) LOOKUP_JOIN(e, p) */
  e.host, e.pid, p.name, p.exe, p.uid, e.name AS variable,
  CASE
    WHEN CHAR_LENGTH(e.value) >= 12 THEN CONCAT(LEFT(e.value, 4), '****')
    ELSE '****'
  END AS redacted_value,
  CHAR_LENGTH(e.value) AS value_length,
  CASE
    WHEN REGEXP_LIKE(e.name, 'PASSWORD|PASSWD|PASSPHRASE|SECRET|(^|_)PASS$|(^|_)TOKEN$|(^|_)API_?KEY$|ACCESS_KEY$|PRIVATE_KEY$|_PWD$', 'i')
      AND NOT REGEXP_LIKE(e.name, '_(FILE|DIR|PATH)$', 'i') THEN 'name'
    ELSE 'value'
  END AS matched_by
FROM environ e
JOIN processes p ON p.pid = e.pid AND p.host = e.host
WHERE e.value <> ''
  AND (
    (REGEXP_LIKE(e.name, 'PASSWORD|PASSWD|PASSPHRASE|SECRET|(^|_)PASS$|(^|_)TOKEN$|(^|_)API_?KEY$|ACCESS_KEY$|PRIVATE_KEY$|_PWD$', 'i')
      AND NOT REGEXP_LIKE(e.name, '_(FILE|DIR|PATH)$', 'i'))
    OR REGEXP_LIKE(e.value, '^[A-Za-z][A-Za-z0-9+.-]*://[^/:@ ]*:[^ ]+@[^/@ ]+', 'c')
    OR REGEXP_LIKE(e.value, '(^|[^A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20}|xox[abposr]-[A-Za-z0-9-]{10,}|(AKIA|ASIA)[0-9A-Z]{16})', 'c')
    OR REGEXP_LIKE(e.value, '-----BEGIN [A-Z ]*PRIVATE KEY-----', 'c')
  )
ORDER BY e.host, e.pid, e.name
