package sessions

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
)

// TensorBoard event files (NeMo-RL's step metrics, see trainers.go) are
// TFRecord files: each record is
//
//	uint64 length (little-endian), uint32 masked CRC-32C of those 8 bytes,
//	data[length], uint32 masked CRC-32C of data
//
// (tensorflow/core/lib/io/record_writer.cc; masked = rotate right by 15,
// plus 0xa282ead8), and each data an Event protocol buffer
// (tensorboard/compat/proto/event.proto): wall_time = 1 (double), step = 2
// (int64), file_version = 3, summary = 5 (Summary: repeated value = 1,
// each Value: tag = 1, simple_value = 2 (float), or tensor = 8, a
// TensorProto whose float_val = 5 or double_val = 6 holds the scalar).
// torch.utils.tensorboard's SummaryWriter.add_scalar writes simple_value.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// readTFEvents reads the scalars of a TensorBoard event file, one entry per
// event that has any. pending is the size of an unfinished last record (the
// writer flushes records whole, but a reader may look between two writes);
// a record whose checksum is wrong stops the reading with an error that
// names it (what came before it is kept).
func readTFEvents(path string) (entries []OfficialMetrics, pending int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	return parseTFEvents(data)
}

// parseTFEvents is readTFEvents on the bytes of an event file.
func parseTFEvents(data []byte) (entries []OfficialMetrics, pending int, err error) {
	off := 0
	for n := 1; off < len(data); n++ {
		if len(data)-off < 12 {
			return entries, len(data) - off, nil
		}
		hdr := data[off : off+8]
		length := binary.LittleEndian.Uint64(hdr)
		if binary.LittleEndian.Uint32(data[off+8:]) != maskedCRC(hdr) {
			return entries, 0, fmt.Errorf("record %d (byte %d): length checksum does not match: not a TFRecord file, or damaged", n, off)
		}
		if rest := len(data) - off; rest < 16 || length > uint64(rest-16) {
			return entries, len(data) - off, nil
		}
		body := data[off+12 : off+12+int(length)]
		if binary.LittleEndian.Uint32(data[off+12+int(length):]) != maskedCRC(body) {
			return entries, 0, fmt.Errorf("record %d (byte %d): data checksum does not match: damaged", n, off)
		}
		m, ok, err := decodeEvent(body)
		if err != nil {
			return entries, 0, fmt.Errorf("record %d (byte %d): %w", n, off, err)
		}
		off += 16 + int(length)
		if ok {
			entries = append(entries, m)
		}
	}
	return entries, 0, nil
}

// decodeEvent returns the step and scalar values of one Event (ok false
// when it has none).
func decodeEvent(b []byte) (OfficialMetrics, bool, error) {
	m := OfficialMetrics{Values: map[string]float64{}}
	err := eachField(b, func(num int, wire int, v uint64, p []byte) error {
		switch {
		case num == 2 && wire == 0:
			m.Step = int(int64(v))
		case num == 5 && wire == 2:
			return eachField(p, func(num, wire int, _ uint64, p []byte) error {
				if num != 1 || wire != 2 {
					return nil
				}
				tag, val, ok, err := decodeValue(p)
				if err == nil && ok {
					m.Values[tag] = val
				}
				return err
			})
		}
		return nil
	})
	return m, err == nil && len(m.Values) > 0, err
}

func decodeValue(b []byte) (tag string, val float64, ok bool, err error) {
	err = eachField(b, func(num, wire int, v uint64, p []byte) error {
		switch {
		case num == 1 && wire == 2:
			tag = string(p)
		case num == 2 && wire == 5:
			val, ok = float64(math.Float32frombits(uint32(v))), true
		case num == 8 && wire == 2:
			return eachField(p, func(num, wire int, v uint64, p []byte) error {
				switch {
				case num == 5 && wire == 5:
					val, ok = float64(math.Float32frombits(uint32(v))), true
				case num == 5 && wire == 2 && len(p) == 4:
					val, ok = float64(math.Float32frombits(binary.LittleEndian.Uint32(p))), true
				case num == 6 && wire == 1:
					val, ok = math.Float64frombits(v), true
				case num == 6 && wire == 2 && len(p) == 8:
					val, ok = math.Float64frombits(binary.LittleEndian.Uint64(p)), true
				}
				return nil
			})
		}
		return nil
	})
	return tag, val, ok && tag != "", err
}

var errProto = errors.New("not a valid protocol buffer")

// eachField walks the fields of a protocol buffer message: v holds a
// varint or fixed value, p a length-delimited one.
func eachField(b []byte, fn func(num, wire int, v uint64, p []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errProto
		}
		b = b[n:]
		num, wire := int(key>>3), int(key&7)
		var v uint64
		var p []byte
		switch wire {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return errProto
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errProto
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errProto
			}
			p, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errProto
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return errProto
		}
		if err := fn(num, wire, v, p); err != nil {
			return err
		}
	}
	return nil
}
