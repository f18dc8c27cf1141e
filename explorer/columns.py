"""Column names of every tidy frame the engine returns, documented in one place.

Probes return long-form pandas DataFrames; widgets, figures, metrics and users refer to columns
through these constants, never through string literals scattered around.
"""

# --- shared by every multiple-choice probe: one row per item x (condition) x choice position ----
ITEM_ID = "item_id"  # Item.id
QUESTION = "question"  # the item's question text
PROMPT = "prompt"  # the exact text given to the model
FORMAT = "format"  # name of the prompt format (letters, string, cloze, ...)
SHOTS = "shots"  # number of in-context demonstrations
SEED = "seed"  # seed that drew the demonstrations (or orders)
K = "k"  # number of choices of the item
POSITION = "position"  # 0-based position at which the choice is shown
LABEL = "label"  # label shown at that position ("A"), or "" for unlabelled formats
CHOICE_INDEX = "choice_index"  # index of the choice in the item as loaded (its origin)
CHOICE = "choice"  # the choice's text
TARGET = "target"  # the scored string (" A" or " Paris")
LOGPROB = "logprob"  # log p(target | prompt): label token, or summed continuation tokens
PROB = "prob"  # exp(logprob): raw probability, out of the whole vocabulary / sequence space
PROB_NORM = "prob_norm"  # prob renormalised over the item's choices (sums to 1 per prompt)
N_TOKENS = "n_tokens"  # tokens in the scored target
IS_GOLD = "is_gold"  # this choice is the gold answer
IS_PRED = "is_pred"  # this choice has the largest score for this prompt
INTERVENTION = "intervention"  # active interventions, "" when none

CHOICE_COLUMNS = [ITEM_ID, FORMAT, SHOTS, SEED, K, POSITION, LABEL, CHOICE_INDEX, CHOICE, TARGET, LOGPROB, PROB,
                  PROB_NORM, N_TOKENS, IS_GOLD, IS_PRED, INTERVENTION, PROMPT]

# --- permutation probe (explorer.probes.permutation): one row per item x order x position ----------
ORDER_ID = "order_id"  # 0-based index of the order in the list of orders asked for (per number of choices)
ORDER = "order"  # the order as original choice indices, "1,2,3,0": choice order[i] is shown at position i

PERMUTATION_COLUMNS = [ITEM_ID, ORDER_ID, ORDER, FORMAT, SHOTS, SEED, K, POSITION, LABEL, CHOICE_INDEX, CHOICE,
                       TARGET, LOGPROB, PROB, PROB_NORM, N_TOKENS, IS_GOLD, IS_PRED, INTERVENTION, PROMPT]

# --- attentiveness probe (explorer.probes.attentiveness): one row per item x format x shots x seed ---
ANSWER = "answer"  # gold position in the prompt, <NA> when the item has no gold
PMA = "pma"  # probability mass on the valid choices: sum of CHOICE_PROBS
PMA_FIRST = "pma_first"  # string/cloze: mass on the choices' distinct first tokens (letters: = pma)
P1 = "p1"  # largest choice score
P2 = "p2"  # second largest choice score
RESOLVED = "resolved"  # SFC bound: 1 - pma < p1 - p2 (stray mass cannot flip the prediction)
GREEDY_TOKEN = "greedy_token"  # the most likely next token, decoded (" A", "\n", ...)
GREEDY_TOKEN_ID = "greedy_token_id"  # its id
GREEDY_PROB = "greedy_prob"  # its probability
GREEDY_VALID = "greedy_valid"  # the greedy token is a label (letters) or a choice's first token (string/cloze)
GREEDY_INVALID = "greedy_invalid"  # not greedy_valid (summary helper column)
PRED = "pred"  # position of the largest choice score
CORRECT = "correct"  # pred == answer (<NA> without gold)
PRED_PMI = "pred_pmi"  # argmax of the domain-conditional PMI score
CORRECT_PMI = "correct_pmi"
PRED_NORM = "pred_norm"  # argmax of logprob / characters (lm-evaluation-harness acc_norm)
CORRECT_NORM = "correct_norm"
CHOICE_PROBS = "choice_probs"  # list per position: label prob, or sequence prob (string/cloze)
CHOICE_FIRST_PROBS = "choice_first_probs"  # list per position: probability of the choice's first token
PREMISE_LOGPROBS = "premise_logprobs"  # list per position: log p(target | premise "Answer:")
CHOICE_CHARS = "choice_chars"  # list per position: characters used for length normalisation
TOP_INVALID = "top_invalid"  # list: the most likely tokens that are not valid, decoded, best first
TOP_INVALID_PROBS = "top_invalid_probs"  # list: their probabilities

ATTENTIVENESS_COLUMNS = [ITEM_ID, FORMAT, SHOTS, SEED, K, ANSWER, PMA, PMA_FIRST, P1, P2, RESOLVED, GREEDY_TOKEN,
                         GREEDY_TOKEN_ID, GREEDY_PROB, GREEDY_VALID, PRED, CORRECT, PRED_PMI, CORRECT_PMI, PRED_NORM,
                         CORRECT_NORM, CHOICE_PROBS, CHOICE_FIRST_PROBS, PREMISE_LOGPROBS, CHOICE_CHARS, TOP_INVALID,
                         TOP_INVALID_PROBS, INTERVENTION, PROMPT]

# --- layer-by-layer PMA (explorer.probes.layers): one row per item x layer ---------------------------
LAYER = "layer"  # 0 = embeddings, l = output of decoder block l (the last is the model's own output)
P_GOLD = "p_gold"  # probability of the gold choice's token at this layer

LAYER_PMA_COLUMNS = [ITEM_ID, FORMAT, SHOTS, SEED, LAYER, PMA, P_GOLD, PRED, CORRECT, CHOICE_PROBS, INTERVENTION]
