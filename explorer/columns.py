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
