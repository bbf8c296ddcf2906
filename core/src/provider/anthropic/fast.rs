//! A streamed Messages event read in one borrowing pass ([`Reader`]), into the same [`StreamEvent`] the lenient
//! serde reading builds; an event of any other shape is left to serde ([`Unusual`]).

use super::{ContentBlock, EventDelta, Message, RawUsage, StreamEvent};
use crate::wire::json_borrow::{seen, Fast, Reader, Unusual};

/// The event, or [`Unusual`] when serde must read it.
pub(super) fn event(data: &[u8]) -> Fast<StreamEvent<'_>> {
    Reader::document(data, |r| {
        let mut out = StreamEvent::default();
        let mut mask = 0;
        let read = r.object(|r, key| match key {
            b"type" => {
                seen(&mut mask, 1)?;
                out.kind = r.text()?;
                Ok(())
            }
            b"message" => {
                seen(&mut mask, 2)?;
                let mut m = Message::default();
                if message(r, &mut m)? {
                    out.message = Some(m);
                }
                Ok(())
            }
            b"delta" => {
                seen(&mut mask, 4)?;
                let mut d = EventDelta::default();
                if delta(r, &mut d)? {
                    out.delta = Some(d);
                }
                Ok(())
            }
            b"content_block" => {
                seen(&mut mask, 8)?;
                let mut b = ContentBlock::default();
                if block(r, &mut b)? {
                    out.content_block = Some(b);
                }
                Ok(())
            }
            b"usage" => {
                seen(&mut mask, 16)?;
                out.usage = usage(r)?;
                Ok(())
            }
            b"index" => {
                seen(&mut mask, 32)?;
                out.index = r.count()?.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
                Ok(())
            }
            b"completion" => {
                seen(&mut mask, 64)?;
                out.completion = r.text()?;
                Ok(())
            }
            b"stop_reason" => {
                seen(&mut mask, 128)?;
                out.stop_reason = r.text()?;
                Ok(())
            }
            b"model" => {
                seen(&mut mask, 256)?;
                out.model = r.text()?;
                Ok(())
            }
            // Errors and Bedrock's appended figures are rare: serde reads them.
            b"error" | b"amazon-bedrock-invocationMetrics" => {
                seen(&mut mask, if key == b"error" { 512 } else { 1024 })?;
                if r.null()? {
                    Ok(())
                } else {
                    Err(Unusual)
                }
            }
            _ => r.skip(),
        })?;
        // A bare `null` is no event (serde's struct reading fails on it).
        if read {
            Ok(out)
        } else {
            Err(Unusual)
        }
    })
}

fn message<'a>(r: &mut Reader<'a>, m: &mut Message<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"id" => {
            seen(&mut mask, 1)?;
            m.id = r.text()?;
            Ok(())
        }
        b"model" => {
            seen(&mut mask, 2)?;
            m.model = r.text()?;
            Ok(())
        }
        b"stop_reason" => {
            seen(&mut mask, 4)?;
            m.stop_reason = r.text()?;
            Ok(())
        }
        b"usage" => {
            seen(&mut mask, 8)?;
            m.usage = usage(r)?;
            Ok(())
        }
        b"content" => {
            seen(&mut mask, 16)?;
            let mut blocks = Vec::new();
            if r.array(|r| {
                let mut b = ContentBlock::default();
                if block(r, &mut b)? {
                    blocks.push(b);
                }
                Ok(())
            })? {
                m.content = Some(blocks);
            }
            Ok(())
        }
        b"completion" => {
            seen(&mut mask, 32)?;
            m.completion = r.text()?;
            Ok(())
        }
        b"type" => {
            seen(&mut mask, 64)?;
            m.kind = r.text()?;
            Ok(())
        }
        b"error" => {
            seen(&mut mask, 128)?;
            if r.null()? {
                Ok(())
            } else {
                Err(Unusual)
            }
        }
        _ => r.skip(),
    })
}

fn block<'a>(r: &mut Reader<'a>, b: &mut ContentBlock<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"type" => {
            seen(&mut mask, 1)?;
            b.kind = r.text()?;
            Ok(())
        }
        b"text" => {
            seen(&mut mask, 2)?;
            b.text = r.text()?;
            Ok(())
        }
        b"thinking" => {
            seen(&mut mask, 4)?;
            b.thinking = r.text()?;
            Ok(())
        }
        b"name" => {
            seen(&mut mask, 8)?;
            b.name = r.text()?;
            Ok(())
        }
        b"partial_json" => {
            seen(&mut mask, 16)?;
            b.partial_json = r.text()?;
            Ok(())
        }
        b"id" => {
            seen(&mut mask, 32)?;
            b.id = r.text()?;
            Ok(())
        }
        // A tool's input is kept as a JSON value: serde builds it.
        b"input" => {
            seen(&mut mask, 64)?;
            if r.null()? {
                Ok(())
            } else {
                Err(Unusual)
            }
        }
        _ => r.skip(),
    })
}

fn delta<'a>(r: &mut Reader<'a>, d: &mut EventDelta<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"type" => {
            seen(&mut mask, 1)?;
            d.kind = r.text()?;
            Ok(())
        }
        b"stop_reason" => {
            seen(&mut mask, 2)?;
            // A number is a name for serde (kept in decimal): left to it.
            d.stop_reason = r.text()?;
            Ok(())
        }
        b"text" => {
            seen(&mut mask, 4)?;
            d.text = r.text()?;
            Ok(())
        }
        b"thinking" => {
            seen(&mut mask, 8)?;
            d.thinking = r.text()?;
            Ok(())
        }
        b"partial_json" => {
            seen(&mut mask, 16)?;
            d.partial_json = r.text()?;
            Ok(())
        }
        _ => r.skip(),
    })
}

fn usage(r: &mut Reader<'_>) -> Fast<Option<RawUsage>> {
    let mut u = RawUsage::default();
    let mut mask = 0;
    let read = r.object(|r, key| match key {
        b"input_tokens" => {
            seen(&mut mask, 1)?;
            u.input_tokens = r.count()?;
            Ok(())
        }
        b"output_tokens" => {
            seen(&mut mask, 2)?;
            u.output_tokens = r.count()?;
            Ok(())
        }
        b"cache_creation_input_tokens" => {
            seen(&mut mask, 4)?;
            u.cache_creation_input_tokens = r.count()?;
            Ok(())
        }
        b"cache_read_input_tokens" => {
            seen(&mut mask, 8)?;
            u.cache_read_input_tokens = r.count()?;
            Ok(())
        }
        _ => r.skip(),
    })?;
    Ok(read.then_some(u))
}
