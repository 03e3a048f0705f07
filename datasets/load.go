package datasets

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"sync"
	"sync/atomic"
)

// Sample is one decoded item.
type Sample struct {
	Item
	// Index is the item's position in the list given to Stream.
	Index int
	// Image is the decoded image (gray replicated to R = G = B).
	Image *image.NRGBA
	// Mask is the binary ground-truth mask at the image's size (0 or 255), nil
	// when the item has no mask (good images: all zero; defective images without
	// mask: unknown).
	Mask *image.Gray
}

// LoadOptions configure Stream.
type LoadOptions struct {
	// Workers is the number of decoding goroutines; 0 means GOMAXPROCS.
	Workers int
	// Ahead bounds how many decoded samples wait for the consumer; 0 means 2·Workers.
	// Memory use is about (Ahead + Workers) decoded images.
	Ahead int
	// SkipBad turns unreadable images and masks into counted warnings (the item
	// is skipped) instead of an error that stops the stream.
	SkipBad bool
}

// LoadStats counts what Stream did.
type LoadStats struct {
	Decoded int
	// Skipped counts unreadable items dropped under SkipBad; Warnings says why.
	Skipped int
	// MasksResized counts masks whose size differed from their image and that
	// were resized by nearest neighbour.
	MasksResized int
	Warnings     []string
}

type result struct {
	s       Sample
	err     error
	resized bool
	from    image.Point
}

// Stream decodes items on a pool of workers and calls fn with each sample in
// the order of items, holding only a bounded window of decoded images in
// memory. It stops at the first error from decoding (unless SkipBad) or from fn,
// or when ctx is cancelled, and returns that error. A mask whose size differs
// from its image is resized by nearest neighbour and counted in
// LoadStats.MasksResized.
func Stream(ctx context.Context, items []Item, opt LoadOptions, fn func(Sample) error) (LoadStats, error) {
	var st LoadStats
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ahead := opt.Ahead
	if ahead <= 0 {
		ahead = 2 * workers
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make([]chan result, len(items))
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	window := make(chan struct{}, ahead+workers)
	jobs := make(chan int)
	var wg sync.WaitGroup
	go func() {
		defer close(jobs)
		for i := range items {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var stop atomic.Bool
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if stop.Load() {
					slots[i] <- result{err: ctx.Err()}
					continue
				}
				slots[i] <- load(items[i], i)
			}
		}()
	}
	defer func() {
		stop.Store(true)
		cancel()
		wg.Wait()
	}()
	for i := range items {
		// A select with a ready slot may pick either case, so check first: once ctx is
		// cancelled (by fn too), fn is not called again.
		if err := ctx.Err(); err != nil {
			return st, err
		}
		var r result
		select {
		case r = <-slots[i]:
		case <-ctx.Done():
			return st, ctx.Err()
		}
		<-window
		if r.err != nil {
			if opt.SkipBad {
				st.Skipped++
				st.Warnings = append(st.Warnings, r.err.Error())
				continue
			}
			return st, r.err
		}
		if r.resized {
			st.MasksResized++
			st.Warnings = append(st.Warnings, fmt.Sprintf("mask %s is %v, its image %v: resized by nearest neighbour", r.s.MaskPath, r.from, r.s.Image.Bounds().Size()))
		}
		st.Decoded++
		if err := fn(r.s); err != nil {
			return st, err
		}
	}
	return st, nil
}

func load(it Item, i int) result {
	img, err := LoadImage(it.Path)
	if err != nil {
		return result{err: err}
	}
	s := Sample{Item: it, Index: i, Image: img}
	var resized bool
	var from image.Point
	if it.MaskPath != "" {
		m, err := LoadMask(it.MaskPath)
		if err != nil {
			return result{err: err}
		}
		if sz := img.Bounds().Size(); m.Bounds().Size() != sz {
			from = m.Bounds().Size()
			m = ResizeMaskNearest(m, sz.X, sz.Y)
			resized = true
		}
		s.Mask = m
	}
	return result{s: s, resized: resized, from: from}
}

// LoadAll decodes all items (see Stream) into memory, in order.
func LoadAll(ctx context.Context, items []Item, opt LoadOptions) ([]Sample, LoadStats, error) {
	out := make([]Sample, 0, len(items))
	st, err := Stream(ctx, items, opt, func(s Sample) error {
		out = append(out, s)
		return nil
	})
	return out, st, err
}
