package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressBar draws a one-line bar on a terminal and, elsewhere (CI logs),
// a line every 10% so logs stay short.
type progressBar struct {
	w       io.Writer
	label   string
	tty     bool
	start   time.Time
	lastPct int
	drawn   time.Time
	unit    string // what is counted, "records" unless set
}

func newProgressBar(w io.Writer, label string) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, label: label, tty: tty, start: time.Now(), lastPct: -1, unit: "records"}
}

func (p *progressBar) update(done, total int) {
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-3)
	if p.tty {
		if done < total && time.Since(p.drawn) < 100*time.Millisecond {
			return
		}
		p.drawn = time.Now()
		const width = 30
		fill := width * pct / 100
		fmt.Fprintf(p.w, "\r%-10s [%s%s] %3d%% %d/%d %s (%.0f/s)", p.label,
			strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, done, total, p.unit, rate)
		if done >= total {
			fmt.Fprintln(p.w)
		}
		return
	}
	if pct/10 == p.lastPct/10 && done < total {
		return
	}
	if p.lastPct == 100 {
		return
	}
	p.lastPct = pct
	fmt.Fprintf(p.w, "%-10s %3d%% %d/%d %s (%.0f/s)\n", p.label, pct, done, total, p.unit, rate)
}
