package proxy

import "encoding/binary"

// peekSize is how much of a message's start is kept to judge it.
const peekSize = 512

// frameScanner follows the websocket frames in one direction of a byte
// stream, as it passes, without buffering it, and calls onMessage with the
// opcode (1 text, 2 binary) and the (unmasked) start of each data
// message's first frame.
type frameScanner struct {
	hdr       [14]byte
	hdrLen    int
	need      int // header bytes needed; 0 while in the payload
	remaining uint64
	mask      [4]byte
	masked    bool
	maskPos   int
	peek      []byte
	peeking   bool
	opcode    byte
	onMessage func(opcode byte, head []byte)
}

func newFrameScanner(onMessage func(byte, []byte)) *frameScanner {
	return &frameScanner{need: 2, onMessage: onMessage, peek: make([]byte, 0, peekSize)}
}

// scan consumes p.
func (s *frameScanner) scan(p []byte) {
	for len(p) > 0 {
		if s.need > 0 {
			n := min(s.need-s.hdrLen, len(p))
			copy(s.hdr[s.hdrLen:], p[:n])
			s.hdrLen += n
			p = p[n:]
			if s.hdrLen == s.need {
				s.parseHeader()
			}
			continue
		}
		n := len(p)
		if uint64(n) > s.remaining {
			n = int(s.remaining)
		}
		if s.peeking {
			take := min(n, peekSize-len(s.peek))
			for i := 0; i < take; i++ {
				b := p[i]
				if s.masked {
					b ^= s.mask[(s.maskPos+i)%4]
				}
				s.peek = append(s.peek, b)
			}
			s.maskPos += take
			if len(s.peek) == peekSize || uint64(n) == s.remaining {
				s.finishPeek()
			}
		}
		s.remaining -= uint64(n)
		p = p[n:]
		if s.remaining == 0 {
			s.endFrame()
		}
	}
}

// parseHeader reads the frame header once enough bytes are in, or asks for
// more header bytes.
func (s *frameScanner) parseHeader() {
	b1 := s.hdr[1]
	s.masked = b1&0x80 != 0
	l := uint64(b1 & 0x7f)
	size := 2
	switch l {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if s.masked {
		size += 4
	}
	if s.need < size {
		s.need = size
		return
	}
	switch l {
	case 126:
		l = uint64(binary.BigEndian.Uint16(s.hdr[2:4]))
	case 127:
		l = binary.BigEndian.Uint64(s.hdr[2:10])
	}
	if s.masked {
		copy(s.mask[:], s.hdr[size-4:size])
	}
	opcode := s.hdr[0] & 0x0f
	s.opcode = opcode
	s.remaining = l
	s.maskPos = 0
	s.peek = s.peek[:0]
	s.peeking = opcode == 0x1 || opcode == 0x2 // the first frame of a text or binary message
	s.need, s.hdrLen = 0, 0
	if s.remaining == 0 {
		if s.peeking {
			s.finishPeek()
		}
		s.endFrame()
	}
}

func (s *frameScanner) finishPeek() {
	s.peeking = false
	s.onMessage(s.opcode, s.peek)
}

func (s *frameScanner) endFrame() {
	if s.peeking {
		s.finishPeek()
	}
	s.need, s.hdrLen = 2, 0
}
