package tokenizer

import "unicode/utf8"

// GPT-2's byte-level alphabet: every byte is shown as one printable rune.
// Bytes that are printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
// themselves; the other 68 bytes map, in byte order, to U+0100 upwards
// (so ' ' is 'Ġ' U+0120 and '\n' is 'Ċ' U+010A).
var (
	byteToRune [256]rune
	// runeToByte[r] is the byte whose rune is r, or -1; runes of the
	// alphabet are all below 0x144.
	runeToByte [0x144]int16
)

func init() {
	for i := range runeToByte {
		runeToByte[i] = -1
	}
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 0x100 + n
			n++
		}
		runeToByte[byteToRune[b]] = int16(b)
	}
}

// byteLevelDecode maps a token written in the byte-level alphabet back to
// the bytes it stands for. ok is false when some rune is not in the
// alphabet (such a token can never come out of byte-level pre-tokenization).
func byteLevelDecode(tok string) (raw string, ok bool) {
	buf := make([]byte, 0, len(tok))
	for _, r := range tok {
		if r < 0 || int(r) >= len(runeToByte) || runeToByte[r] < 0 {
			return "", false
		}
		buf = append(buf, byte(runeToByte[r]))
	}
	return string(buf), true
}

// byteLevelEncode writes raw bytes in the byte-level alphabet.
func byteLevelEncode(raw string) string {
	buf := make([]byte, 0, 2*len(raw))
	for i := 0; i < len(raw); i++ {
		buf = utf8.AppendRune(buf, byteToRune[raw[i]])
	}
	return string(buf)
}
