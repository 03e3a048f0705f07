package metrics_test

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/advgs/advgs/vgs/metrics"
	"github.com/advgs/advgs/vgs/targets"
)

func TestSinkhornTiming(t *testing.T) {
	if os.Getenv("ADVGS_LONG") != "1" {
		t.Skip("set ADVGS_LONG=1")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	g, _ := targets.NewGMM("grid")
	f, _ := targets.NewFunnel(10)
	for _, c := range []struct {
		name string
		x, y []float32
		d    int
	}{{"gmm 2-D", g.Exact(10000, rng), g.Exact(10000, rng), 2}, {"funnel 10-D", f.Exact(10000, rng), f.Exact(10000, rng), 10}} {
		st := time.Now()
		s := metrics.Sinkhorn(c.x, c.y, c.d, metrics.DefaultSinkhorn())
		t.Logf("%s: sinkhorn %.4f in %v", c.name, s, time.Since(st))
	}
}
