// Command procsql queries a Linux host's /proc with SQL.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGTERM and SIGHUP stop a capture as cleanly as Ctrl-C: nothing named
	// is left behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	app := newApp(os.Stdin, os.Stdout, os.Stderr)
	if err := app.run(ctx, os.Args[1:]); err != nil {
		os.Exit(exitStatus(err, os.Stderr))
	}
}

// exitStatus prints err and returns the process exit status. It is 130 when
// Ctrl-C stopped the command (128 + SIGINT, as shells report it). Otherwise it
// is the code an error carries through ExitCode (hunt uses 1 for hits and 2
// for failures), or 1. Hunt hits were already printed and are not repeated.
func exitStatus(err error, stderr io.Writer) int {
	var matched *huntsMatchedError
	if !errors.As(err, &matched) {
		fmt.Fprintf(stderr, "procsql: %v\n", err)
	}
	if errors.Is(err, context.Canceled) {
		return 130
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}
