package audio

// WaveformLen is the number of samples of every waveform.
const WaveformLen = 64

// maxBins bounds the memory of an Outline, however many packets it sees.
const maxBins = 4096

// Outline gathers a per-packet measure of loudness (the bytes or bits the
// encoder spent on each packet or frame: a variable-bitrate encoder spends
// more on louder, busier sound and almost nothing on silence) into a fixed
// number of waveform samples. It is a proxy, read without decoding: a
// constant-bitrate stream gives a flat outline. Memory is bounded: when
// maxBins bins are full, neighbours are merged and each bin covers twice
// as many packets.
type Outline struct {
	bins    []uint64
	per     int // packets per bin
	pending uint64
	npend   int
}

// Add records one packet's measure.
func (o *Outline) Add(v uint64) {
	if o.per == 0 {
		o.per = 1
	}
	o.pending += v
	o.npend++
	if o.npend < o.per {
		return
	}
	o.bins = append(o.bins, o.pending/uint64(o.per))
	o.pending, o.npend = 0, 0
	if len(o.bins) >= maxBins {
		for i := 0; i < len(o.bins)/2; i++ {
			o.bins[i] = (o.bins[2*i] + o.bins[2*i+1]) / 2
		}
		o.bins = o.bins[:len(o.bins)/2]
		o.per *= 2
	}
}

// Waveform returns WaveformLen samples scaled so the loudest is 255 (all
// zero for a stream without packets). Each sample is the mean of the
// bins it covers; a short stream's bins are stretched.
func (o *Outline) Waveform() []byte {
	bins := o.bins
	if o.npend > 0 {
		bins = append(bins[:len(bins):len(bins)], o.pending/uint64(o.npend))
	}
	out := make([]byte, WaveformLen)
	if len(bins) == 0 {
		return out
	}
	means := make([]uint64, WaveformLen)
	var top uint64
	for i := range means {
		lo := i * len(bins) / WaveformLen
		hi := (i + 1) * len(bins) / WaveformLen
		if hi <= lo {
			hi = lo + 1
		}
		var sum uint64
		for _, b := range bins[lo:hi] {
			sum += b
		}
		means[i] = sum / uint64(hi-lo)
		top = max(top, means[i])
	}
	if top == 0 {
		return out
	}
	for i, m := range means {
		out[i] = byte(m * 255 / top)
	}
	return out
}
