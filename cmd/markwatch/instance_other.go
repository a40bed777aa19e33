//go:build !unix

package main

import (
	"io"
	"os"
)

// lockFile takes an exclusive lock on path by creating it; a stale file
// left by a killed process makes its index look taken until removed.
// (Detectors run on unix hosts; this keeps the build portable.)
func lockFile(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o666)
	if os.IsExist(err) {
		return nil, errLocked
	}
	if err != nil {
		return nil, err
	}
	return removeOnClose{f}, nil
}

type removeOnClose struct{ *os.File }

func (r removeOnClose) Close() error {
	err := r.File.Close()
	_ = os.Remove(r.Name())
	return err
}
