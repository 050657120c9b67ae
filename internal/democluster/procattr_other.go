//go:build !linux

package democluster

import "syscall"

// childProcAttr: only Linux can tie a child's life to this process's.
func childProcAttr() *syscall.SysProcAttr { return nil }
