# Shapes and run settings the bench scripts share (sourced by scale.sh,
# fit.sh and gpu.sh from the repository root).

# qwen_config VOCAB D FF LAYERS HEADS KV TIED: a Qwen2 config.json of that
# shape, stored in BF16, on stdout (for `rlt model init --config`).
qwen_config() {
	cat <<JSON
{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": $1, "hidden_size": $2,
 "intermediate_size": $3, "num_hidden_layers": $4, "num_attention_heads": $5, "num_key_value_heads": $6,
 "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": $7,
 "hidden_act": "silu", "torch_dtype": "bfloat16"}
JSON
}

# grpo_config TEACHER STUDENT STEPS NEW: `rlt train --config` settings of
# the measured GRPO step, 2 questions × 4 samples × NEW new tokens on the
# addition task, STEPS steps, no evaluation or checkpoints, on stdout.
grpo_config() {
	cat <<TOML
teacher = '$1'
student = '$2'
task = 'addition'
steps = $3
eval_every = 0
checkpoint_every = 0
[grpo]
questions = 2
samples = 4
max_new_tokens = $4
TOML
}
