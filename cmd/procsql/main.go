// Command procsql queries a Linux host's /proc with SQL.
package main

import (
	"context"
	"errors"
	"fmt"
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
		fmt.Fprintf(os.Stderr, "procsql: %v\n", err)
		if errors.Is(err, context.Canceled) {
			// 128 + SIGINT, as shells report a command stopped by Ctrl-C.
			os.Exit(130)
		}
		os.Exit(1)
	}
}
