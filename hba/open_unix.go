//go:build unix

package hba

import "syscall"

// openNonblock is added to the flags of every open of a file to load: a FIFO
// that replaced a regular file between the stat and the open cannot block
// the open (the opened file is checked again before it is read).
const openNonblock = syscall.O_NONBLOCK
