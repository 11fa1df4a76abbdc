package procfile

import (
	"bytes"
	"strconv"
	"strings"
)

// Module is one row of /proc/modules.
type Module struct {
	Name string
	Size uint64 // bytes of memory the module occupies
	// RefCount is the module's use count. HasRefCount is false when the
	// kernel prints "-" because it was built without CONFIG_MODULE_UNLOAD.
	RefCount    int64
	HasRefCount bool
	// UsedBy lists the modules that depend on this one, in kernel order.
	UsedBy []string
	// Permanent is true when the kernel lists "[permanent]" among the users:
	// the module has an init but no exit function, so it cannot be unloaded.
	Permanent bool
	State     string // Live, Loading or Unloading
	// Address is the load address of the module's code. HasAddress is false
	// when the kernel printed zero, which means kptr_restrict hid the address
	// from this reader. It does not mean address 0.
	Address    uint64
	HasAddress bool
	// Taint is the module's taint letters, such as "POE" (P proprietary,
	// O out-of-tree, E unsigned, C staging), or "" when the module taints
	// nothing.
	Taint string
}

// minModuleColumns is the number of columns before the optional taint group.
const minModuleColumns = 6

// ParseModules parses the contents of /proc/modules. Each line is
// "name size refcnt deps state address [(taints)]". deps is "-" or a list in
// which every name ends with ','. Columns after the taint group are ignored so
// that a later kernel can append one, and blank lines are ignored. A line that does not
// parse is skipped. ParseModules then returns every row that did parse
// together with an error that wraps ErrMalformed and names the first bad line.
func ParseModules(data []byte) ([]Module, error) {
	return parseTableLines(data, "", shortestModuleLine, parseModuleLine)
}

// shortestModuleLine is the shortest line that parseModuleLine accepts.
const shortestModuleLine = "m 0 0 - L 0x0"

// parseModuleLine parses one line. On failure it returns a description of the
// first invalid column.
func parseModuleLine(line []byte) (Module, string) {
	var row Module
	var columns [minModuleColumns + 1][]byte
	pos := 0
	for i := range columns {
		columns[i], pos = nextColumn(line, pos)
		if len(columns[i]) == 0 && i < minModuleColumns {
			return row, "expected 6 or 7 columns (name size refcnt deps state address [taints]), found " +
				strconv.Itoa(i) + " in " + quoteColumn(line)
		}
	}

	row.Name = string(columns[0])

	var ok bool
	if row.Size, ok = parseDecColumn(columns[1], 64); !ok {
		return row, "invalid size " + quoteColumn(columns[1]) + ": expected a decimal number of bytes"
	}

	if string(columns[2]) != "-" {
		if row.RefCount, ok = parseSignedDecColumn(columns[2]); !ok {
			return row, "invalid refcnt " + quoteColumn(columns[2]) + ": expected a decimal number or '-'"
		}
		row.HasRefCount = true
	}

	if problem := parseModuleUsers(columns[3], &row); problem != "" {
		return row, problem
	}

	row.State = string(columns[4])

	hexAddress, hasPrefix := bytes.CutPrefix(columns[5], []byte("0x"))
	if !hasPrefix {
		return row, "invalid address " + quoteColumn(columns[5]) + ": expected 0x and hex digits"
	}
	if row.Address, ok = parseHexColumn(hexAddress, 64); !ok {
		return row, "invalid address " + quoteColumn(columns[5]) + ": expected 0x and hex digits"
	}
	row.HasAddress = row.Address != 0

	if taints := columns[6]; len(taints) != 0 {
		if problem := parseModuleTaints(taints, &row); problem != "" {
			return row, problem
		}
	}
	return row, ""
}

// parseModuleUsers fills UsedBy and Permanent from the deps column.
func parseModuleUsers(column []byte, row *Module) string {
	if string(column) == "-" {
		return ""
	}
	if column[len(column)-1] != ',' {
		return "invalid deps " + quoteColumn(column) + ": expected '-' or names that each end with ','"
	}
	for _, name := range strings.Split(string(column[:len(column)-1]), ",") {
		switch name {
		case "":
			return "invalid deps " + quoteColumn(column) + ": empty module name"
		case "[permanent]":
			row.Permanent = true
		default:
			row.UsedBy = append(row.UsedBy, name)
		}
	}
	return ""
}

// parseModuleTaints fills Taint from a group such as "(POE)". The kernel adds
// '+' to the group of a loading module and '-' to that of an unloading one.
// Those marks repeat the state column and are not taint letters, so they are
// dropped.
func parseModuleTaints(column []byte, row *Module) string {
	if len(column) < 2 || column[0] != '(' || column[len(column)-1] != ')' {
		return "invalid taint flags " + quoteColumn(column) + ": expected letters in parentheses, such as (POE)"
	}
	letters := column[1 : len(column)-1]
	if n := len(letters); n > 0 && (letters[n-1] == '+' || letters[n-1] == '-') {
		letters = letters[:n-1]
	}
	for _, c := range letters {
		if c < 'A' || c > 'Z' {
			return "invalid taint flags " + quoteColumn(column) + ": expected upper-case letters in parentheses"
		}
	}
	row.Taint = string(letters)
	return ""
}
