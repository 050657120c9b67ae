package testcluster

import "syscall"

// childProcAttr has the kernel kill kruise-manager when the test binary dies without Stop.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
