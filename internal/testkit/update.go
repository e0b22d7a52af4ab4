package testkit

import "flag"

// Update reports whether the test binary runs with -update: tests that can
// rewrite their expected output (see the package comment) do so instead of
// comparing.
func Update() bool { return *update }

var update = flag.Bool("update", false, "rewrite expected output (golden files, generated tables) instead of comparing")
