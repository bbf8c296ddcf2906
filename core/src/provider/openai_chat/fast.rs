//! A `chat.completion.chunk` or a whole `chat.completion` read in one borrowing pass ([`Reader`]), into the same
//! [`ChatResponse`] the lenient serde reading builds; a message of any other shape is left to serde ([`Unusual`]).

use super::{ChatResponse, Choice, CompletionDetails, Delta, FunctionCall, PromptDetails, RawUsage, ToolCall};
use crate::wire::json_borrow::{seen, Fast, Reader, Unusual};
use crate::wire::lenient::TextOrList;

/// The chunk or response, or [`Unusual`] when serde must read it.
pub(super) fn response(data: &[u8]) -> Fast<ChatResponse<'_>> {
    Reader::document(data, |r| {
        let mut out = ChatResponse::default();
        let mut mask = 0;
        let read = r.object(|r, key| match key {
            b"id" => {
                seen(&mut mask, 1)?;
                out.id = r.text()?;
                Ok(())
            }
            b"model" => {
                seen(&mut mask, 2)?;
                out.model = r.text()?;
                Ok(())
            }
            b"system_fingerprint" => {
                seen(&mut mask, 4)?;
                out.system_fingerprint = r.text()?;
                Ok(())
            }
            b"service_tier" => {
                seen(&mut mask, 8)?;
                out.service_tier = r.text()?;
                Ok(())
            }
            b"choices" => {
                seen(&mut mask, 16)?;
                let mut choices = Vec::new();
                if r.array(|r| {
                    let mut c = Choice::default();
                    if choice(r, &mut c)? {
                        choices.push(c);
                    }
                    Ok(())
                })? {
                    out.choices = Some(choices);
                }
                Ok(())
            }
            b"usage" => {
                seen(&mut mask, 32)?;
                out.usage = usage(r)?;
                Ok(())
            }
            // Vendor keys and errors are rare: serde reads them.
            b"x_groq" | b"error" => {
                seen(&mut mask, if key == b"error" { 64 } else { 128 })?;
                if r.null()? {
                    Ok(())
                } else {
                    Err(Unusual)
                }
            }
            _ => r.skip(),
        })?;
        // A bare `null` is no chunk (serde's struct reading fails on it).
        if read {
            Ok(out)
        } else {
            Err(Unusual)
        }
    })
}

/// `index` and `contentBlockIndex` as [`crate::wire::lenient::index`] reads them.
fn index(r: &mut Reader<'_>) -> Fast<Option<usize>> {
    Ok(r.count()?.map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
}

/// One choice; `false` for a `null` element (which the lenient list drops without counting).
fn choice<'a>(r: &mut Reader<'a>, c: &mut Choice<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"index" => {
            seen(&mut mask, 1)?;
            c.index = index(r)?;
            Ok(())
        }
        b"finish_reason" => {
            seen(&mut mask, 2)?;
            // A number is a name for serde (kept in decimal): left to it.
            c.finish_reason = r.text()?;
            Ok(())
        }
        // `message` is an alias of `delta`: both at once is a repeated field.
        b"delta" | b"message" => {
            seen(&mut mask, 4)?;
            let mut d = Delta::default();
            if delta(r, &mut d)? {
                c.delta = Some(d);
            }
            Ok(())
        }
        b"text" => {
            seen(&mut mask, 8)?;
            c.text = r.text()?;
            Ok(())
        }
        b"usage" => {
            seen(&mut mask, 16)?;
            c.usage = usage(r)?;
            Ok(())
        }
        _ => r.skip(),
    })
}

fn delta<'a>(r: &mut Reader<'a>, d: &mut Delta<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"content" => {
            seen(&mut mask, 1)?;
            // Content parts are counted by serde's reading (rare in streams).
            d.content = r.text()?.map(TextOrList::Text);
            Ok(())
        }
        b"refusal" => {
            seen(&mut mask, 2)?;
            d.refusal = r.text()?;
            Ok(())
        }
        b"reasoning_content" => {
            seen(&mut mask, 4)?;
            d.reasoning_content = r.text()?;
            Ok(())
        }
        b"reasoning" => {
            seen(&mut mask, 8)?;
            d.reasoning = r.text()?;
            Ok(())
        }
        b"tool_calls" => {
            seen(&mut mask, 16)?;
            let mut calls = Vec::new();
            if r.array(|r| {
                let mut t = ToolCall::default();
                if tool_call(r, &mut t)? {
                    calls.push(t);
                }
                Ok(())
            })? {
                d.tool_calls = Some(calls);
            }
            Ok(())
        }
        _ => r.skip(),
    })
}

fn tool_call<'a>(r: &mut Reader<'a>, t: &mut ToolCall<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"index" => {
            seen(&mut mask, 1)?;
            t.index = index(r)?;
            Ok(())
        }
        b"id" => {
            seen(&mut mask, 2)?;
            t.id = r.text()?;
            Ok(())
        }
        b"function" => {
            seen(&mut mask, 4)?;
            let mut f = FunctionCall::default();
            let mut inner = 0;
            if r.object(|r, key| match key {
                b"name" => {
                    seen(&mut inner, 1)?;
                    f.name = r.text()?;
                    Ok(())
                }
                b"arguments" => {
                    seen(&mut inner, 2)?;
                    // Arguments sent as JSON (not a string) are serde's to write out.
                    f.arguments = r.text()?;
                    Ok(())
                }
                _ => r.skip(),
            })? {
                t.function = Some(f);
            }
            Ok(())
        }
        _ => r.skip(),
    })
}

fn usage(r: &mut Reader<'_>) -> Fast<Option<RawUsage>> {
    let mut u = RawUsage::default();
    let mut mask = 0;
    let read = r.object(|r, key| match key {
        b"prompt_tokens" => {
            seen(&mut mask, 1)?;
            u.prompt_tokens = r.count()?;
            Ok(())
        }
        b"completion_tokens" => {
            seen(&mut mask, 2)?;
            u.completion_tokens = r.count()?;
            Ok(())
        }
        b"total_tokens" => {
            seen(&mut mask, 4)?;
            u.total_tokens = r.count()?;
            Ok(())
        }
        b"prompt_tokens_details" => {
            seen(&mut mask, 8)?;
            let mut p = PromptDetails::default();
            let mut inner = 0;
            if r.object(|r, key| match key {
                b"cached_tokens" => {
                    seen(&mut inner, 1)?;
                    p.cached_tokens = r.count()?;
                    Ok(())
                }
                b"cache_write_tokens" => {
                    seen(&mut inner, 2)?;
                    p.cache_write_tokens = r.count()?;
                    Ok(())
                }
                _ => r.skip(),
            })? {
                u.prompt_tokens_details = Some(p);
            }
            Ok(())
        }
        b"completion_tokens_details" => {
            seen(&mut mask, 16)?;
            let mut c = CompletionDetails::default();
            let mut inner = 0;
            if r.object(|r, key| match key {
                b"reasoning_tokens" => {
                    seen(&mut inner, 1)?;
                    c.reasoning_tokens = r.count()?;
                    Ok(())
                }
                _ => r.skip(),
            })? {
                u.completion_tokens_details = Some(c);
            }
            Ok(())
        }
        _ => r.skip(),
    })?;
    Ok(read.then_some(u))
}
