//go:build darwin || freebsd

package db

import (
	"os"
	"syscall"
)

// fileIdentity is the file's inode and status-change time: a copy that keeps
// the modification time (cp -p, rsync -a, touch -r) still gets a new inode
// or a new change time, which no program can set.
func fileIdentity(fi os.FileInfo) (inode uint64, ctime int64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Ino), st.Ctimespec.Nano()
}
