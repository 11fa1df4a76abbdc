package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/procsql/procsql/output"
	"github.com/procsql/procsql/tables"
)

func isDotCommand(line string) bool {
	return strings.HasPrefix(strings.TrimSpace(line), ".")
}

// runDotCommand runs one dot command and prints its error, if any, on
// stderr. It returns true for .quit and .exit.
func (s *shell) runDotCommand(line string) (quit bool) {
	s.inputs++
	// A trailing ";" is accepted out of SQL habit.
	fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	name, args := fields[0], fields[1:]
	var err error
	switch name {
	case ".tables":
		err = s.printTables(args)
	case ".schema":
		err = s.printSchema(args)
	case ".mode":
		err = s.setMode(args)
	case ".timer":
		err = s.setTimer(args)
	case ".hunts":
		err = s.listHunts(args)
	case ".hunt":
		err = s.runHunts(args)
	case ".help":
		err = s.printHelp(args)
	case ".quit", ".exit":
		return true
	default:
		err = fmt.Errorf("unknown command %q: type .help for the list of commands", name)
	}
	if err != nil {
		s.failures++
		fmt.Fprintf(s.app.stderr, "error: %v\n", err)
	}
	return false
}

func (s *shell) printTables(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf(".tables takes no arguments, got %q", strings.Join(args, " "))
	}
	tw := tabwriter.NewWriter(s.app.stdout, 0, 0, 2, ' ', 0)
	for _, t := range tables.All() {
		fmt.Fprintf(tw, "%s\t%s\n", t.Name(), t.Comment())
	}
	return tw.Flush()
}

func (s *shell) printSchema(args []string) error {
	all := tables.All()
	var selected []tables.Table
	switch len(args) {
	case 0:
		selected = all
	case 1:
		for _, t := range all {
			// SQL table names are case-insensitive and may be quoted with
			// backticks, so .schema matches them the same way.
			if strings.EqualFold(t.Name(), strings.Trim(args[0], "`")) {
				selected = append(selected, t)
			}
		}
		if len(selected) == 0 {
			return fmt.Errorf("table %q not found: use one of %s", args[0], strings.Join(tableNames(all), ", "))
		}
	default:
		return fmt.Errorf(".schema takes at most one table name, got %q", strings.Join(args, " "))
	}

	tw := tabwriter.NewWriter(s.app.stdout, 0, 0, 2, ' ', 0)
	for i, t := range selected {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s -- %s\n", t.Name(), t.Comment())
		for _, c := range t.Columns() {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, c.Type.String(), c.Comment)
		}
	}
	return tw.Flush()
}

func tableNames(all []tables.Table) []string {
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Name()
	}
	return names
}

func (s *shell) setMode(args []string) error {
	switch len(args) {
	case 0:
		_, err := fmt.Fprintf(s.app.stdout, "mode: %s\n", s.format)
		return err
	case 1:
		if err := output.CheckFormat(args[0]); err != nil {
			return err
		}
		s.format = args[0]
		return nil
	}
	return fmt.Errorf(".mode takes one format, got %q: use one of %s", strings.Join(args, " "), strings.Join(output.Formats, ", "))
}

func (s *shell) setTimer(args []string) error {
	if len(args) == 0 {
		state := "off"
		if s.timer {
			state = "on"
		}
		_, err := fmt.Fprintf(s.app.stdout, "timer: %s\n", state)
		return err
	}
	if len(args) == 1 {
		switch strings.ToLower(args[0]) {
		case "on":
			s.timer = true
			return nil
		case "off":
			s.timer = false
			return nil
		}
	}
	return fmt.Errorf("invalid .timer argument %q: use .timer on or .timer off", strings.Join(args, " "))
}

func (s *shell) printHelp(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf(".help takes no arguments, got %q", strings.Join(args, " "))
	}
	tw := tabwriter.NewWriter(s.app.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, `SQL statements end with ";" and may span several lines. Shell commands, which need no ";":`)
	for _, c := range dotCommands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.usage, c.summary)
	}
	return tw.Flush()
}

// huntRunner returns a copy of the app that prints in the shell's current
// output format, so the code of procsql hunt follows .mode.
func (s *shell) huntRunner() *app {
	runner := *s.app
	runner.format = s.format
	return &runner
}

func (s *shell) listHunts(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf(".hunts takes no arguments, got %q", strings.Join(args, " "))
	}
	hunts, err := loadHunts("")
	if err != nil {
		return err
	}
	return s.huntRunner().listHunts(hunts)
}

// runHunts runs the hunts named in ids on the shell's source and prints
// their hits as procsql hunt does. Hits are not an error, but an unknown id
// or a failed hunt query is. Ctrl-C cancels the remaining hunts.
func (s *shell) runHunts(ids []string) error {
	if len(ids) == 0 {
		return errors.New(".hunt needs at least one hunt id: type .hunts to list them")
	}
	hunts, err := loadHunts("")
	if err != nil {
		return err
	}
	selected, err := selectHunts(hunts, ids, "")
	if err != nil {
		return err
	}

	huntCtx, cancel := context.WithCancel(s.session)
	defer cancel()
	stopWatching := s.cancelOnInterrupt(cancel)
	err = s.huntRunner().huntAll(huntCtx, s.eng, selected)
	stopWatching()

	var matched *huntsMatchedError
	switch {
	case err == nil, errors.As(err, &matched):
		return nil
	case huntCtx.Err() != nil:
		if s.interrupts != nil {
			// The terminal echoes ^C without a line break.
			fmt.Fprintln(s.app.stderr)
		}
		return errors.New("hunt canceled")
	}
	return err
}

// huntIDs returns the ids of the built-in hunts for Tab completion, or nil
// after a warning when they cannot be loaded.
func (s *shell) huntIDs() []string {
	hunts, err := loadHunts("")
	if err != nil {
		fmt.Fprintf(s.app.stderr, "warning: Tab will not complete hunt ids: %v\n", err)
		return nil
	}
	return sortedIDs(hunts)
}
