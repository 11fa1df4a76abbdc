// Command procsql queries a Linux host's /proc with SQL.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	app := newApp(os.Stdin, os.Stdout, os.Stderr)
	if err := app.run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "procsql: %v\n", err)
		os.Exit(1)
	}
}
