// Package progress reports the progress of long loops: a progress bar with rate and
// ETA when the output is a terminal, plain periodic lines otherwise (logs, CI).
package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar reports n steps of work.
type Bar struct {
	w      io.Writer
	desc   string
	total  int
	done   int
	start  time.Time
	last   time.Time
	every  time.Duration
	bar    *progressbar.ProgressBar
	status string
}

// New makes a reporter writing to w for total steps. When w is a terminal it draws a
// bar; otherwise it prints a line at most every 10 seconds. A nil w reports nothing.
func New(w io.Writer, total int, desc string) *Bar {
	b := &Bar{w: w, desc: desc, total: total, start: time.Now(), every: 10 * time.Second}
	b.last = b.start
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("it"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	return b
}

// Add records n more steps and sets the status text (losses and the like).
func (b *Bar) Add(n int, status string) {
	if b == nil || b.w == nil {
		return
	}
	b.done += n
	b.status = status
	if b.bar != nil {
		b.bar.Describe(b.desc + " " + status)
		b.bar.Add(n)
		return
	}
	now := time.Now()
	if now.Sub(b.last) >= b.every || b.done == b.total {
		b.last = now
		el := now.Sub(b.start)
		rate := float64(b.done) / el.Seconds()
		eta := time.Duration(float64(b.total-b.done)/rate) * time.Second
		fmt.Fprintf(b.w, "%s %d/%d (%.1f it/s, elapsed %s, eta %s) %s\n", b.desc, b.done, b.total,
			rate, el.Round(time.Second), eta.Round(time.Second), status)
	}
}

// Finish closes the bar.
func (b *Bar) Finish() {
	if b != nil && b.bar != nil {
		b.bar.Finish()
	}
}
