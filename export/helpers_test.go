package export_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/procsql/procsql/export/internal/exporttest"
	"github.com/procsql/procsql/internal/livetest"
)

func TestMain(m *testing.M) {
	if livetest.RunChild() {
		return
	}
	os.Exit(m.Run())
}

// hostTree is the copied /proc tree of a host named web-01; see
// exporttest.HostTree.
var hostTree = filepath.Join("..", exporttest.HostTree)
