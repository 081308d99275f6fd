// Package atomicfile writes files so that a reader or a crash sees the old
// content or the new, never half of either: the data goes to a temporary
// file beside the target, which is then renamed over it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes b to path atomically, creating its directory as needed.
// The temporary file is removed on any failure.
func Write(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes the file 0600; these files are read by other
		// processes of the same user and by people inspecting .local.
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
