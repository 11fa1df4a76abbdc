package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) queryCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "query <sql>",
		Short: "Run one SQL statement and print its result",
		Long: `Run one SQL statement and print its result on stdout.

Failed reads (for example EACCES on other users' processes when not root)
leave the columns they feed NULL and are counted on one line on stderr.
The exit status is 0 on success and 1 when the statement fails.`,
		Example: `  procsql query "SELECT pid, name, cmdline FROM processes ORDER BY pid"
  procsql query "SELECT p.pid, p.exe, COUNT(*) AS fds FROM processes p JOIN fds f ON f.pid = p.pid GROUP BY p.pid, p.exe ORDER BY fds DESC LIMIT 10"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("query takes one SQL statement as one argument, got %d; quote it: procsql query \"SELECT ...\"", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.openEngine(cmd.Context(), "")
			if err != nil {
				return err
			}
			res, err := eng.Query(eng.NewSession(cmd.Context()), args[0])
			if err != nil {
				return err
			}
			return a.writeResult(res, a.format)
		},
	}
}
