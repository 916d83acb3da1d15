package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Env is the machine a run's load generator ran on, so that results from
// different machines are not compared by mistake.
type Env struct {
	Start      time.Time `json:"start"`
	GoVersion  string    `json:"go_version"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	CPUModel   string    `json:"cpu_model,omitempty"` // from /proc/cpuinfo, where there is one
}

func currentEnv() Env {
	return Env{
		Start:      time.Now().UTC().Truncate(time.Second),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPUModel:   cpuModel(),
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo, "" without one.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// String describes the environment on one line for reports.
func (e Env) String() string {
	model := e.CPUModel
	if model == "" {
		model = "unknown CPU"
	}
	return fmt.Sprintf("load generator: %s, %d CPUs (GOMAXPROCS %d), %s %s/%s, started %s",
		model, e.NumCPU, e.GOMAXPROCS, e.GoVersion, e.OS, e.Arch, e.Start.Format(time.RFC3339))
}
