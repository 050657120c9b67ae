package democluster

import "syscall"

// childProcAttr has the kernel kill a child when this process dies without Stop.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
