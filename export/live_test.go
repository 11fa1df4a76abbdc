package export_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/procsql/procsql/export"
	"github.com/procsql/procsql/export/internal/exporttest"
	"github.com/procsql/procsql/internal/livetest"
	"github.com/procsql/procsql/source"
)

// The live test exports the real /proc inside fresh PID, mount and network
// namespaces (see internal/livetest), so the files hold only the test
// binary and the children it starts, and compares every file with SELECT *
// of the same read.

func TestLiveExportMatchesSelect(t *testing.T) {
	if !livetest.EnterNamespaces(t) {
		return
	}
	dir := t.TempDir()
	argv := []string{"worker with spaces", "", "caf\xe9 \xff", "--last=x"}
	env := []string{"EXPORT_MARKER=live export 7", "GREETING=caf\xe9", "EMPTY="}
	server := livetest.StartChild(t, "server", dir, argv, env)
	client := livetest.StartChild(t, "client", dir, []string{strconv.Itoa(server.Report.Port)}, nil)
	server.Next(t) // the accepted connection

	src, err := source.NewDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	eng, ctx := exporttest.NewEngine(t, src)
	host, _ := exporttest.Query(t, eng, ctx, "SELECT hostname FROM `system`").Rows[0][0].(string)
	if host == "" {
		t.Fatal("the live system table reports no host name")
	}

	for _, format := range []string{export.Parquet, export.JSONL, export.CSV} {
		t.Run(format, func(t *testing.T) {
			switch format {
			case export.Parquet:
				checkParquetExport(t, eng, ctx, "", true)
			case export.JSONL:
				checkJSONLExport(t, eng, ctx, "", true)
			case export.CSV:
				checkCSVExport(t, eng, ctx, "", true)
			}
		})
	}

	// The scenario's own rows, as an analyst would look them up.
	out := t.TempDir()
	exporttest.Export(t, eng, ctx, export.Options{Format: export.JSONL, Dir: out})
	serverPID := json.Number(strconv.Itoa(server.Cmd.Process.Pid))
	clientPID := json.Number(strconv.Itoa(client.Cmd.Process.Pid))

	_, processes := readJSONL(t, filepath.Join(out, "processes.jsonl"))
	row := findRow(t, processes, "processes", map[string]any{"pid": serverPID})
	wantArgv := append([]any{os.Args[0]}, "worker with spaces", "", `caf\xe9 \xff`, "--last=x")
	if got, _ := row["argv"].([]any); !slices.Equal(got, wantArgv) {
		t.Errorf("server argv %q, want %q", got, wantArgv)
	}
	rawArgv := strings.Join(append([]string{os.Args[0]}, argv...), "\x00") + "\x00"
	if want := textJSON(rawArgv); fmt.Sprint(row["cmdline_raw"]) != fmt.Sprint(want) {
		t.Errorf("server cmdline_raw %v, want %v", row["cmdline_raw"], want)
	}
	if row["host"] != host {
		t.Errorf("server row host %v, want %s", row["host"], host)
	}

	_, environ := readJSONL(t, filepath.Join(out, "environ.jsonl"))
	marker := findRow(t, environ, "environ", map[string]any{"pid": serverPID, "name": "EXPORT_MARKER"})
	if marker["value"] != "live export 7" {
		t.Errorf("EXPORT_MARKER value %v, want %q", marker["value"], "live export 7")
	}
	greeting := findRow(t, environ, "environ", map[string]any{"pid": serverPID, "name": "GREETING"})
	if want := map[string]any{"base64": base64.StdEncoding.EncodeToString([]byte("caf\xe9"))}; fmt.Sprint(greeting["value_raw"]) != fmt.Sprint(want) {
		t.Errorf("GREETING value_raw %v, want %v", greeting["value_raw"], want)
	}
	if greeting["value"] != `caf\xe9` {
		t.Errorf("GREETING value %v, want %q", greeting["value"], `caf\xe9`)
	}

	_, sockets := readJSONL(t, filepath.Join(out, "process_sockets.jsonl"))
	port := json.Number(strconv.Itoa(server.Report.Port))
	findRow(t, sockets, "process_sockets", map[string]any{"pid": serverPID, "state": "LISTEN", "local_port": port, "local_address": "127.0.0.1"})
	findRow(t, sockets, "process_sockets", map[string]any{"pid": clientPID, "state": "ESTABLISHED", "remote_port": port})
	findRow(t, sockets, "process_sockets", map[string]any{"pid": serverPID, "family": "unix", "path": filepath.Join(dir, "ctl sock")})
}

// findRow returns the one row of rows whose fields equal match, and fails
// the test unless there is exactly one.
func findRow(t *testing.T, rows []map[string]any, table string, match map[string]any) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, row := range rows {
		ok := true
		for k, v := range match {
			if row[k] != v {
				ok = false
				break
			}
		}
		if ok {
			found = append(found, row)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s.jsonl has %d rows with %v, want 1", table, len(found), match)
	}
	return found[0]
}
