package main

import "io"

func runDiff(stdout, stderr io.Writer, args []string) error { return nil }
