#!/usr/bin/env bash
# Peak memory of making and loading a Qwen2.5-0.5B-shaped BF16 checkpoint
# (V 151,936, d 896, 24 layers, 14/2 heads, ff 4,864, tied; 494M parameters,
# a 988 MB file; not kept):
#   1. `rlt model init --dtype bf16` (streams the weights to the file);
#   2. `rlt logprobs` of three ids, loading it frozen in 16 bits (the default,
#      --weights checkpoint) and then widened (--weights float32),
# each under /usr/bin/time -v, with the peak RSS against the file's size.
#   bash bench/load_qwen05b.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d /tmp/qwen05b-XXXXXX)}
mkdir -p "$dir"
go build -o "$dir/rlt" .
cat >"$dir/config.in.json" <<'JSON'
{"model_type":"qwen2","architectures":["Qwen2ForCausalLM"],"vocab_size":151936,"hidden_size":896,
 "intermediate_size":4864,"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,
 "max_position_embeddings":32768,"rms_norm_eps":1e-6,"rope_theta":1000000.0,"tie_word_embeddings":true}
JSON
peak() { grep 'Maximum resident set size' "$1" | awk '{print $NF}'; }
/usr/bin/time -v "$dir/rlt" model init --config "$dir/config.in.json" --out "$dir/m" --dtype bf16 >/dev/null 2>"$dir/init.txt" || { cat "$dir/init.txt"; exit 1; }
file=$(stat -c %s "$dir/m/model.safetensors")
report() { python3 -c "print(f'$1: peak RSS {$2*1024/1e9:.3f} GB = {$2*1024/$file:.2f}x the {$file/1e9:.3f} GB file')"; }
report "model init --dtype bf16" "$(peak "$dir/init.txt")"
for w in checkpoint float32; do
  echo '{"ids": [1, 2, 3]}' | /usr/bin/time -v "$dir/rlt" logprobs --weights $w --model "$dir/m" >/dev/null 2>"$dir/time.txt" || { cat "$dir/time.txt"; exit 1; }
  report "logprobs --weights $w" "$(peak "$dir/time.txt")"
done
rm -rf "$dir"
