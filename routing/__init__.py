"""Classification and routing engine: pure Python + jieba (see the routing issue)."""
