package cemu

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
)

// Strerror is glibc's strerror for the error number inside err, the text
// PostgreSQL puts after "could not open file ...:". The common file errors
// have glibc's exact texts; any other errno gets Go's text for it with its
// first letter in upper case, which is glibc's text for every number from 1
// to 133 on Linux (a test checks them against the C library), and a number
// Go does not know is "Unknown error N" as in glibc. Without an errno, fs.ErrNotExist and fs.ErrPermission (what an
// fs.FS returns) map to ENOENT's and EACCES's texts, and any other error
// gives err.Error().
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case 0:
			return "Success"
		case syscall.ENOENT:
			return "No such file or directory"
		case syscall.EACCES:
			return "Permission denied"
		case syscall.ENOTDIR:
			return "Not a directory"
		case syscall.EISDIR:
			return "Is a directory"
		case syscall.ELOOP:
			return "Too many levels of symbolic links"
		case syscall.ENAMETOOLONG:
			return "File name too long"
		case syscall.EMFILE:
			return "Too many open files"
		case syscall.EPERM:
			return "Operation not permitted"
		case 133: // EHWPOISON, which Go's table lacks
			return "Memory page has hardware error"
		}
		s := errno.Error()
		if strings.HasPrefix(s, "errno ") {
			return "Unknown error " + strconv.Itoa(int(errno))
		}
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	}
	return err.Error()
}
