import pytest

from dialoggraph.data import DialogueValidationError
from dialoggraph.features import read_transcript, write_transcript
from conftest import write_rows

HEADER_ROWS = [["d1", 0, "A", "hi", "joy", "train", "a.wav", "0.5", "1.5"],
               ["d1", 2, "B", "hello   there", "", "train", "", "", ""],
               ["d2", 0, "A", "bye", "sadness", "test", "v.mp4", "", ""]]


def test_reads_rows_in_order_with_their_fields(tmp_path):
    rows = read_transcript(write_rows(tmp_path / "t.csv", HEADER_ROWS))
    assert [(u.dialogue, u.index, u.speaker, u.text, u.emotion, u.split) for u in rows] == [
        ("d1", 0, "A", "hi", "joy", "train"), ("d1", 2, "B", "hello there", "", "train"),
        ("d2", 0, "A", "bye", "sadness", "test")]
    assert (rows[0].media, rows[0].start, rows[0].end, rows[0].line) == ("a.wav", 0.5, 1.5, 2)
    assert rows[1].start is None and rows[2].is_video and not rows[0].is_video


def test_write_then_read_gives_the_same_rows(tmp_path):
    rows = read_transcript(write_rows(tmp_path / "t.csv", HEADER_ROWS))
    write_transcript(rows, str(tmp_path / "again.csv"))
    assert read_transcript(str(tmp_path / "again.csv")) == rows


def test_without_a_split_column_everything_is_train(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("dialogue_id,utterance_id,speaker,text\nd,0,A,hi\nd,1,B,yo\n")
    assert {u.split for u in read_transcript(str(path))} == {"train"}


@pytest.mark.parametrize("bad, message", [
    (["d1", 0, "B", "again", "", "train", "", "", ""], r"line 4 \(dialogue 'd1', utterance 0\): utterance_id "
                                                        r"does not increase \(the row before, line 3, has 2\)"),
    (["d1", 3, "B", "   ", "", "train", "", "", ""], r"line 4 \(dialogue 'd1', utterance 3\): empty text"),
    (["d1", 3, "", "x", "", "train", "", "", ""], "empty speaker"),
    (["d1", "x", "B", "x", "", "train", "", "", ""], "utterance_id 'x' is not an integer"),
    (["d1", 3, "B", "x", "", "test", "", "", ""], "split 'test' differs from the dialogue's 'train'"),
    (["d1", 3, "B", "x", "", "val", "", "", ""], "split 'val' is not one of train, dev, test"),
    (["d1", 3, "B", "x", "", "train", "notes.txt", "", ""], "media 'notes.txt' is not audio"),
    (["d1", 3, "B", "x", "", "train", "a.wav", "2", "1"], "end 1.0 is not after start 2.0"),
    (["d1", 3, "B", "x", "", "train", "a.wav", "-1", ""], "start '-1' must be a finite number"),
    (["d1", 3, "B", "x", "", "train", "", "1", ""], "start/end given without a media file"),
])
def test_bad_rows_are_refused_naming_line_dialogue_and_utterance(tmp_path, bad, message):
    path = write_rows(tmp_path / "t.csv", HEADER_ROWS[:2] + [bad])
    with pytest.raises(DialogueValidationError, match=message):
        read_transcript(path)


def test_a_dialogue_that_reappears_is_refused(tmp_path):
    path = write_rows(tmp_path / "t.csv", HEADER_ROWS + [["d1", 5, "A", "late", "", "train", "", "", ""]])
    with pytest.raises(DialogueValidationError, match="dialogue 'd1' reappears after another dialogue "
                                                      r"\(first at line 2\)"):
        read_transcript(path)


def test_missing_columns_and_files_are_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("dialogue_id,speaker,text\nd,A,hi\n")
    with pytest.raises(DialogueValidationError, match="missing column.*utterance_id"):
        read_transcript(str(path))
    with pytest.raises(DialogueValidationError, match="no such transcript file"):
        read_transcript(str(tmp_path / "absent.csv"))
