package media

import (
	"context"
	"image"
	"image/color"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// photo12MP is a 4000 × 3000 JPEG with detail everywhere (gradients and
// a fine pattern), about the size of a phone photo.
func photo12MP(b *testing.B) []byte {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for y := 0; y < 3000; y++ {
		for x := 0; x < 4000; x++ {
			yy, _, _ := color.RGBToYCbCr(uint8(x/16), uint8(y/12), uint8((x*y)%251))
			img.Y[img.YOffset(x, y)] = yy
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(i%199), uint8(i%211)
	}
	return encodeJPEG(b, img)
}

// peakHeap samples the heap in use while fn runs and returns the highest
// value above the heap before fn (a sampled lower bound of the true peak).
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base.HeapInuse && m.HeapInuse-base.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse - base.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

// BenchmarkThumbnails12MP makes the three thumbnails and the BlurHash of a
// 12-megapixel JPEG, one job at a time: jobs/s and the peak heap of a job.
func BenchmarkThumbnails12MP(b *testing.B) {
	raw := photo12MP(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := peakHeap(func() {
			if _, _, err := renderThumbnails(context.Background(), raw); err != nil {
				b.Fatal(err)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB/job")
}

// BenchmarkThumbnailBurst100 starts 100 jobs on 12-megapixel JPEGs at
// once with the default 2 decode slots: the peak heap stays near two
// decodes, not a hundred.
func BenchmarkThumbnailBurst100(b *testing.B) {
	raw := photo12MP(b)
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := peakHeap(func() {
			var wg sync.WaitGroup
			for range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, _, err := renderThumbnails(context.Background(), raw); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "jobs/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
}
