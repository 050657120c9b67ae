//go:build !linux

package testcluster

import "syscall"

// childProcAttr: only Linux can tie the child's life to the test binary's.
func childProcAttr() *syscall.SysProcAttr { return nil }
