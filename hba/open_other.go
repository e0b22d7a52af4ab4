//go:build !unix

package hba

// openNonblock is 0 where the system has no O_NONBLOCK (js/wasm, Windows):
// there the stat before the open and the check of the opened file refuse
// anything but a regular file.
const openNonblock = 0
