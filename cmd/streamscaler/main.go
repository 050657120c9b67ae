// Command streamscaler autoscales live-streaming media fleets; its subcommands are wired
// here and hold no decision logic.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "streamscaler",
		Short:         "Autoscale live-streaming media fleets without cutting streams",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newSimulateCommand(), newControllerCommand(), newValidateCommand())
	root.AddCommand(newForecastCommand(), newDemoCommand(), newSweepCommand(), newScaleBenchCommand(), newVersionCommand())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "streamscaler:", err)
		os.Exit(1)
	}
}
