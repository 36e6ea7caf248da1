package container

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/opts"
	"github.com/moby/moby/api/types/container"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type updateOptions struct {
	blkioWeight       uint16
	cpuPeriod         int64
	cpuQuota          int64
	cpuRealtimePeriod int64
	cpuRealtimeRT     int64
	cpusetCpus        string
	cpusetMems        string
	cpuShares         int64
	cpus              opts.NanoCPUs
	memory            opts.MemBytes
	memoryReservation opts.MemBytes
	memorySwap        opts.MemSwapBytes
	pidsLimit         int64
	restartPolicy     string
}

func newUpdateCommand(c *cli.Cli, use string) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Update configuration of one or more containers",
		Args:  cli.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUpdate(cmd.Context(), c, cmd.Flags(), o, args)
		},
	}
	cli.WithAliases(cmd, "container update, update")
	flags := cmd.Flags()
	flags.Uint16Var(&o.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
	flags.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	flags.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	flags.Int64Var(&o.cpuRealtimePeriod, "cpu-rt-period", 0, "Limit the CPU real-time period in microseconds")
	flags.Int64Var(&o.cpuRealtimeRT, "cpu-rt-runtime", 0, "Limit the CPU real-time runtime in microseconds")
	flags.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	flags.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	flags.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	flags.VarP(&o.memory, "memory", "m", "Memory limit")
	flags.Var(&o.memoryReservation, "memory-reservation", "Memory soft limit")
	flags.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
	flags.StringVar(&o.restartPolicy, "restart", "", "Restart policy to apply when a container exits")
	flags.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	flags.Var(&o.cpus, "cpus", "Number of CPUs")
	return cmd
}

func runUpdate(ctx context.Context, c *cli.Cli, flags *pflag.FlagSet, o updateOptions, refs []string) error {
	if flags.NFlag() == 0 {
		return errors.New("you must provide one or more flags when using this command")
	}
	var restart container.RestartPolicy
	if o.restartPolicy != "" {
		var err error
		if restart, err = parseRestartPolicy(o.restartPolicy); err != nil {
			return err
		}
	}
	update := container.UpdateConfig{
		Resources: container.Resources{
			BlkioWeight:        o.blkioWeight,
			CpusetCpus:         o.cpusetCpus,
			CpusetMems:         o.cpusetMems,
			CPUShares:          o.cpuShares,
			Memory:             o.memory.Value(),
			MemoryReservation:  o.memoryReservation.Value(),
			MemorySwap:         o.memorySwap.Value(),
			CPUPeriod:          o.cpuPeriod,
			CPUQuota:           o.cpuQuota,
			CPURealtimePeriod:  o.cpuRealtimePeriod,
			CPURealtimeRuntime: o.cpuRealtimeRT,
			NanoCPUs:           o.cpus.Value(),
		},
		RestartPolicy: restart,
	}
	if flags.Changed("pids-limit") {
		p := o.pidsLimit
		update.PidsLimit = &p
	}
	var warnings, failures []string
	for _, ref := range refs {
		resp, err := c.Client().ContainerUpdate(ctx, ref, update)
		if err != nil {
			failures = append(failures, cli.ErrorText(err))
			continue
		}
		fmt.Fprintln(c.Out(), ref)
		warnings = append(warnings, resp.Warnings...)
	}
	if len(warnings) > 0 {
		fmt.Fprintln(c.Out(), strings.Join(warnings, "\n"))
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "\n"))
	}
	return nil
}
