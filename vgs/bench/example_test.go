package bench_test

import (
	"fmt"

	"github.com/advgs/advgs/vgs/bench"
)

// Run the GMM benchmark with its embedded config, shortened.
func ExampleRun() {
	cfg, err := bench.LoadConfig("gmm", "")
	if err != nil {
		panic(err)
	}
	cfg.Training.NIter, cfg.Training.NEval = 2, 200
	res, err := bench.Run(cfg, bench.Options{Name: "gmm", NoMALA: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Target, res.Steps, len(res.Metrics))
	// Output: gmm 20 4
}
