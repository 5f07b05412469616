<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <source>built in, MIT (this project)</source>
        <translation>内置，MIT（本项目）</translation>
    </message>
    <message>
        <source>non-commercial use only</source>
        <translation>仅限非商业用途</translation>
    </message>
    <message>
        <source>Offline lip-sync for presenter videos. Qt {qt}.</source>
        <translation>离线为口播视频做口型同步。Qt {qt}。</translation>
    </message>
    <message>
        <source>Models in use</source>
        <translation>正在使用的模型</translation>
    </message>
    <message>
        <source>Third-party software</source>
        <translation>第三方软件</translation>
    </message>
    <message>
        <source>About Lipsync Studio</source>
        <translation>关于 Lipsync Studio</translation>
    </message>
</context>
<context>
    <name>BatchModel</name>
    <message>
        <source>Video</source>
        <translation>视频</translation>
    </message>
    <message>
        <source>Audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Speed / ETA</source>
        <translation>速度 / 剩余时间</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>Rendering</source>
        <translation>渲染中</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Done, check it</source>
        <translation>已完成，请检查</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>no face found</source>
        <translation>未检测到人脸</translation>
    </message>
    <message>
        <source>face in {percent}%</source>
        <translation>人脸覆盖 {percent}%</translation>
    </message>
    <message>
        <source>{label}: {model} is not installed</source>
        <translation>{label}：未安装 {model}</translation>
    </message>
    <message>
        <source>starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>{fps} fps · {eta} left</source>
        <translation>{fps} fps · 剩余 {eta}</translation>
    </message>
    <message>
        <source>took {time}</source>
        <translation>用时 {time}</translation>
    </message>
    <message>
        <source>job {id}: {state}</source>
        <translation>任务 {id}：{state}</translation>
    </message>
    <message>
        <source>attempt {n}</source>
        <translation>第 {n} 次尝试</translation>
    </message>
    <message>
        <source>Higher runs first; double-click to change</source>
        <translation>数值越大越先渲染；双击修改</translation>
    </message>
</context>
<context>
    <name>BatchStatus</name>
    <message>
        <source>No jobs yet: drop presenter videos and speech audio</source>
        <translation>还没有任务：拖入口播视频和配音音频</translation>
    </message>
    <message>
        <source>{done} of {total} done</source>
        <translation>已完成 {done}/{total}</translation>
    </message>
    <message>
        <source>{n} failed</source>
        <translation>{n} 个失败</translation>
    </message>
    <message>
        <source>{n} cancelled</source>
        <translation>{n} 个已取消</translation>
    </message>
    <message>
        <source>{n} rendering at {fps} fps</source>
        <translation>{n} 个渲染中，{fps} 帧/秒</translation>
    </message>
    <message>
        <source>{n} queued</source>
        <translation>{n} 个排队中</translation>
    </message>
    <message>
        <source>about {time} left</source>
        <translation>预计还需 {time}</translation>
    </message>
    <message>
        <source>this job {time} left</source>
        <translation>当前任务还需 {time}</translation>
    </message>
    <message>
        <source>another window runs the queue</source>
        <translation>队列由另一个窗口运行</translation>
    </message>
    <message>
        <source>queue stopped: press Start</source>
        <translation>队列已停止：点击“开始”</translation>
    </message>
    <message>
        <source>{percent}% rendered</source>
        <translation>已渲染 {percent}%</translation>
    </message>
</context>
<context>
    <name>BatchTable</name>
    <message>
        <source>Drop presenter videos and speech here

One video with several audios makes a job per audio.
Or use Add videos and Add audio above.</source>
        <translation>把口播视频和配音拖到这里

一个视频配多段音频，每段音频生成一个任务。
也可以用上方的“添加视频”和“添加音频”。</translation>
    </message>
</context>
<context>
    <name>ErrorReporter</name>
    <message>
        <source>Lipsync Studio: unexpected error</source>
        <translation>Lipsync Studio：意外错误</translation>
    </message>
    <message>
        <source>Something went wrong. The error was written to the log; Log → Copy diagnostics helps a bug report.</source>
        <translation>出错了。错误已写入日志；反馈问题时可使用“日志 → 复制诊断信息”。</translation>
    </message>
</context>
<context>
    <name>FacePickerDialog</name>
    <message>
        <source>Click the face that should speak.</source>
        <translation>点击要说话的那张脸。</translation>
    </message>
    <message>
        <source>No face found in this frame: pick another moment in the preview.</source>
        <translation>这一帧没有检测到人脸：请在预览中换一个时间点。</translation>
    </message>
    <message>
        <source>Use this face</source>
        <translation>使用这张脸</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
</context>
<context>
    <name>FarmLink</name>
    <message>
        <source>Ray is not installed: pip install &apos;lipsync-studio[farm]&apos;</source>
        <translation>未安装 Ray：请运行 pip install &apos;lipsync-studio[farm]&apos;</translation>
    </message>
    <message>
        <source>Ray cluster at {address}</source>
        <translation>Ray 集群（{address}）</translation>
    </message>
    <message>
        <source>Render on: {where} (not reachable)</source>
        <translation>渲染位置：{where}（无法连接）</translation>
    </message>
    <message>
        <source>Render on: {where} (connecting…)</source>
        <translation>渲染位置：{where}（正在连接…）</translation>
    </message>
    <message>
        <source>Render on: {where} (jobs at once: {n})</source>
        <translation>渲染位置：{where}（同时渲染 {n} 个任务）</translation>
    </message>
    <message>
        <source>Render on: this computer</source>
        <translation>渲染位置：本机</translation>
    </message>
</context>
<context>
    <name>FrameView</name>
    <message>
        <source>Select a job to preview it</source>
        <translation>选择一个任务进行预览</translation>
    </message>
</context>
<context>
    <name>Intake</name>
    <message>
        <source>Pair videos and audios</source>
        <translation>配对视频和音频</translation>
    </message>
    <message>
        <source>You added {videos} videos and {audios} audio files.</source>
        <translation>你添加了 {videos} 个视频和 {audios} 个音频。</translation>
    </message>
    <message>
        <source>Render every video with every audio, or pair files whose names match (alice.mp4 with alice.wav, alice_take2.wav …)?</source>
        <translation>把每个视频和每段音频都渲染一遍，还是按文件名配对（alice.mp4 配 alice.wav、alice_take2.wav …）？</translation>
    </message>
    <message>
        <source>Every combination ({n} jobs)</source>
        <translation>全部组合（{n} 个任务）</translation>
    </message>
    <message>
        <source>Match by name ({n} jobs)</source>
        <translation>按文件名配对（{n} 个任务）</translation>
    </message>
    <message>
        <source>Pair with the selected video?</source>
        <translation>与选中的视频配对？</translation>
    </message>
    <message>
        <source>Render {audios} with the selected job&apos;s video {videos}?

No: the audio waits for a video you drop or add next.</source>
        <translation>用选中任务的视频 {videos} 渲染 {audios}？

选“否”：音频会等待你接下来拖入或添加的视频。</translation>
    </message>
    <message>
        <source>Reading {n} item(s)…</source>
        <translation>正在读取 {n} 个文件…</translation>
    </message>
    <message>
        <source>Cannot read the files</source>
        <translation>无法读取文件</translation>
    </message>
    <message>
        <source>Some files cannot be used</source>
        <translation>部分文件无法使用</translation>
    </message>
    <message>
        <source>{n} file(s) could not be read as video or audio and were not added:</source>
        <translation>{n} 个文件无法识别为视频或音频，未添加：</translation>
    </message>
    <message>
        <source>Nothing added yet</source>
        <translation>尚未添加任何任务</translation>
    </message>
    <message>
        <source>Cannot add the jobs</source>
        <translation>无法添加任务</translation>
    </message>
    <message>
        <source>Output folder {folder}: {error}</source>
        <translation>输出文件夹 {folder}：{error}</translation>
    </message>
    <message>
        <source>Added {n} job(s)</source>
        <translation>已添加 {n} 个任务</translation>
    </message>
</context>
<context>
    <name>JobEditDialog</name>
    <message>
        <source>Change job {id}</source>
        <translation>修改任务 {id}</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Save and retry</source>
        <translation>保存并重试</translation>
    </message>
</context>
<context>
    <name>JobFiles</name>
    <message>
        <source>Not found</source>
        <translation>找不到文件</translation>
    </message>
    <message>
        <source>{path} does not exist (yet).</source>
        <translation>{path} 不存在（或尚未生成）。</translation>
    </message>
    <message>
        <source>Cannot open</source>
        <translation>无法打开</translation>
    </message>
    <message>
        <source>This system has no application set to open it. The path was copied to the clipboard:

{path}</source>
        <translation>系统中没有可以打开它的程序。路径已复制到剪贴板：

{path}</translation>
    </message>
</context>
<context>
    <name>JobNotice</name>
    <message>
        <source>Open Models…</source>
        <translation>打开模型管理…</translation>
    </message>
    <message>
        <source>Change model or device…</source>
        <translation>更换模型或设备…</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>no reason was recorded</source>
        <translation>没有记录原因</translation>
    </message>
    <message>
        <source>The model {model} is not installed. Download or import it in Models, or render this job with another model.</source>
        <translation>模型 {model} 尚未安装。请在模型管理中下载或导入，或改用其他模型渲染这个任务。</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <translation>失败：{reason}</translation>
    </message>
</context>
<context>
    <name>Language</name>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>LogPanel</name>
    <message>
        <source>All jobs</source>
        <translation>全部任务</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Copy diagnostics</source>
        <translation>复制诊断信息</translation>
    </message>
    <message>
        <source>Versions, GPUs, providers and the last errors, for a bug report</source>
        <translation>版本、显卡、推理后端和最近的错误，用于反馈问题</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Job {id}</source>
        <translation>任务 {id}</translation>
    </message>
    <message>
        <source>Cannot read the log: {error}</source>
        <translation>无法读取日志：{error}</translation>
    </message>
    <message>
        <source>Collecting…</source>
        <translation>正在收集…</translation>
    </message>
    <message>
        <source>Failed: {error}</source>
        <translation>失败：{error}</translation>
    </message>
    <message>
        <source>Diagnostics copied</source>
        <translation>诊断信息已复制</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Select a job to preview it</source>
        <translation>选择一个任务进行预览</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Add videos</source>
        <translation>添加视频</translation>
    </message>
    <message>
        <source>Add presenter videos or stills</source>
        <translation>添加口播视频或照片</translation>
    </message>
    <message>
        <source>Add audio</source>
        <translation>添加音频</translation>
    </message>
    <message>
        <source>Add speech audio files</source>
        <translation>添加配音音频</translation>
    </message>
    <message>
        <source>Add folder</source>
        <translation>添加文件夹</translation>
    </message>
    <message>
        <source>Add every video and audio in a folder</source>
        <translation>添加文件夹中的所有视频和音频</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Render the queued jobs</source>
        <translation>渲染队列中的任务</translation>
    </message>
    <message>
        <source>Hold</source>
        <translation>暂停队列</translation>
    </message>
    <message>
        <source>Start no new job; the ones rendering now finish</source>
        <translation>不再开始新任务；正在渲染的会继续完成</translation>
    </message>
    <message>
        <source>Start new jobs automatically</source>
        <translation>自动开始新任务</translation>
    </message>
    <message>
        <source>Render jobs as soon as they are added, without pressing Start</source>
        <translation>任务一添加就开始渲染，无需点击“开始”</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancel the selected jobs (a cancelled job leaves no file)</source>
        <translation>取消选中的任务（取消的任务不会留下文件）</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove the selected jobs from the list</source>
        <translation>从列表中移除选中的任务</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Queue the selected finished jobs again</source>
        <translation>把选中的已结束任务重新加入队列</translation>
    </message>
    <message>
        <source>Choose face…</source>
        <translation>选择人脸…</translation>
    </message>
    <message>
        <source>Click the face that should speak, in the frame the preview shows</source>
        <translation>在预览显示的画面中，点击要说话的那张脸</translation>
    </message>
    <message>
        <source>Clear finished</source>
        <translation>清除已结束</translation>
    </message>
    <message>
        <source>Remove done, failed and cancelled jobs from the list (their files stay)</source>
        <translation>从列表中移除已完成、失败和已取消的任务（文件保留）</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>打开输出文件夹</translation>
    </message>
    <message>
        <source>Open the folder of the selected job&apos;s output</source>
        <translation>打开选中任务的输出所在文件夹</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>Open the render</source>
        <translation>打开成片</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Copy output path</source>
        <translation>复制输出路径</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Models…</source>
        <translation>模型管理…</translation>
    </message>
    <message>
        <source>Download, import and check lip-sync models</source>
        <translation>下载、导入和校验口型同步模型</translation>
    </message>
    <message>
        <source>About Lipsync Studio</source>
        <translation>关于 Lipsync Studio</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>批量</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Queue</source>
        <translation>队列(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Rendering…</source>
        <translation>渲染中…</translation>
    </message>
    <message>
        <source>Held: {n} job(s) rendering now finish, no new job starts</source>
        <translation>队列已暂停：正在渲染的 {n} 个任务会继续完成，不再开始新任务</translation>
    </message>
    <message>
        <source>Held: no new job starts until you press Start</source>
        <translation>队列已暂停：点击“开始”前不会开始新任务</translation>
    </message>
    <message>
        <source>Remove jobs</source>
        <translation>移除任务</translation>
    </message>
    <message>
        <source>Remove {n} jobs from the list? Their rendered files stay.</source>
        <translation>从列表中移除 {n} 个任务？已渲染的文件会保留。</translation>
    </message>
    <message>
        <source>{n} rendering job(s) not removed: cancel them first</source>
        <translation>{n} 个正在渲染的任务未移除：请先取消</translation>
    </message>
    <message>
        <source>{n} job(s) queued again</source>
        <translation>{n} 个任务已重新排队</translation>
    </message>
    <message>
        <source>{n} job(s) queued again: press Start to render</source>
        <translation>{n} 个任务已重新排队：点击“开始”进行渲染</translation>
    </message>
    <message>
        <source>Face for {name}</source>
        <translation>{name} 的人脸</translation>
    </message>
    <message>
        <source>Face set: {face}</source>
        <translation>已设置人脸：{face}</translation>
    </message>
    <message>
        <source>Remove {n} done, failed and cancelled jobs from the list? Their rendered files stay.</source>
        <translation>从列表中移除 {n} 个已完成、失败和已取消的任务？已渲染的文件会保留。</translation>
    </message>
    <message>
        <source>Removed {n} finished job(s)</source>
        <translation>已移除 {n} 个已结束的任务</translation>
    </message>
    <message>
        <source>Add presenter videos</source>
        <translation>添加口播视频</translation>
    </message>
    <message>
        <source>Videos and images</source>
        <translation>视频和图片</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
    <message>
        <source>Add speech audio</source>
        <translation>添加配音音频</translation>
    </message>
    <message>
        <source>Audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <source>Add a folder of videos and audio</source>
        <translation>添加包含视频和音频的文件夹</translation>
    </message>
    <message>
        <source>Copied {path}</source>
        <translation>已复制 {path}</translation>
    </message>
    <message>
        <source>The new language applies the next time Lipsync Studio starts</source>
        <translation>新的界面语言将在下次启动 Lipsync Studio 时生效</translation>
    </message>
    <message>
        <source>Model not installed</source>
        <translation>模型未安装</translation>
    </message>
    <message>
        <source>The jobs use the model {model}, which is not installed.

Open Models to download it now?</source>
        <translation>这些任务使用的模型 {model} 尚未安装。

现在打开模型管理下载吗？</translation>
    </message>
    <message>
        <source>Change model or device…</source>
        <translation>更换模型或设备…</translation>
    </message>
    <message>
        <source>Show job {id} in the log</source>
        <translation>在日志中查看任务 {id}</translation>
    </message>
    <message>
        <source>{n} job(s) added: press Start to render</source>
        <translation>已添加 {n} 个任务：点击“开始”进行渲染</translation>
    </message>
    <message>
        <source>Quit while rendering?</source>
        <translation>正在渲染，确定退出？</translation>
    </message>
    <message>
        <source>{n} job(s) are rendering. Quit anyway?

They stop now and start again from the beginning the next time you press Start.</source>
        <translation>{n} 个任务正在渲染。仍要退出吗？

它们会立即停止，下次点击“开始”时从头重新渲染。</translation>
    </message>
</context>
<context>
    <name>ModelsDialog</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <source>corrupt</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <source>built in</source>
        <translation>内置</translation>
    </message>
    <message>
        <source>face detector</source>
        <translation>人脸检测</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型管理</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Import file…</source>
        <translation>导入文件…</translation>
    </message>
    <message>
        <source>Verify</source>
        <translation>校验</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Cannot read the models: {error}</source>
        <translation>无法读取模型：{error}</translation>
    </message>
    <message>
        <source>{status} (partial download)</source>
        <translation>{status}（已下载一部分）</translation>
    </message>
    <message>
        <source>non-commercial use only</source>
        <translation>仅限非商业用途</translation>
    </message>
    <message>
        <source>Non-commercial licence</source>
        <translation>非商业许可</translation>
    </message>
    <message>
        <source>{name} is licensed for non-commercial use only.

{note}

Download it ({size})?</source>
        <translation>{name} 仅授权用于非商业用途。

{note}

要下载吗（{size}）？</translation>
    </message>
    <message>
        <source>Downloading {name}…</source>
        <translation>正在下载 {name}…</translation>
    </message>
    <message>
        <source>{name} installed at {path}</source>
        <translation>{name} 已安装到 {path}</translation>
    </message>
    <message>
        <source>Download failed: {error}</source>
        <translation>下载失败：{error}</translation>
    </message>
    <message>
        <source>Download of {name} cancelled; Download again resumes it.</source>
        <translation>{name} 的下载已取消；再次点击“下载”可断点续传。</translation>
    </message>
    <message>
        <source>{done} of {total}</source>
        <translation>{done} / {total}</translation>
    </message>
    <message>
        <source>Import a model file</source>
        <translation>导入模型文件</translation>
    </message>
    <message>
        <source>ONNX models</source>
        <translation>ONNX 模型</translation>
    </message>
    <message>
        <source>All files</source>
        <translation>所有文件</translation>
    </message>
    <message>
        <source>Importing {file}…</source>
        <translation>正在导入 {file}…</translation>
    </message>
    <message>
        <source>Imported {file} as {name}</source>
        <translation>已将 {file} 导入为 {name}</translation>
    </message>
    <message>
        <source>Cannot import {file}: {error}</source>
        <translation>无法导入 {file}：{error}</translation>
    </message>
    <message>
        <source>Verifying {name}…</source>
        <translation>正在校验 {name}…</translation>
    </message>
    <message>
        <source>{name}: the file matches its checksum</source>
        <translation>{name}：文件校验通过</translation>
    </message>
    <message>
        <source>{name}: the file is missing or damaged; download or import it again</source>
        <translation>{name}：文件缺失或已损坏，请重新下载或导入</translation>
    </message>
    <message>
        <source>Cannot verify {name}: {error}</source>
        <translation>无法校验 {name}：{error}</translation>
    </message>
    <message>
        <source>Delete model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <source>Delete the files of {name}?</source>
        <translation>删除 {name} 的模型文件？</translation>
    </message>
    <message>
        <source>Deleted {name}</source>
        <translation>已删除 {name}</translation>
    </message>
    <message>
        <source>Cannot delete {name}: {error}</source>
        <translation>无法删除 {name}：{error}</translation>
    </message>
</context>
<context>
    <name>PendingBar</name>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Waiting for speech audio: {files}</source>
        <translation>等待配音音频：{files}</translation>
    </message>
    <message>
        <source>Waiting for a presenter video: {files}</source>
        <translation>等待口播视频：{files}</translation>
    </message>
</context>
<context>
    <name>PreviewPanel</name>
    <message>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <source>Play the finished render with sound (Space)</source>
        <translation>带声音播放成片（空格键）</translation>
    </message>
    <message>
        <source>Playback is unavailable: QtMultimedia did not load (on Linux it needs libpulse0). Drag the slider to step through the render frame by frame.</source>
        <translation>无法播放：QtMultimedia 未能加载（在 Linux 上需要 libpulse0）。拖动滑块可逐帧查看成片。</translation>
    </message>
    <message>
        <source>Before / After</source>
        <translation>前 / 后对比</translation>
    </message>
    <message>
        <source>Show this frame without lip-sync (checked) or with it (unchecked)</source>
        <translation>显示这一帧口型同步前（按下）或同步后（松开）的画面</translation>
    </message>
    <message>
        <source>frame </source>
        <translation>帧 </translation>
    </message>
    <message>
        <source>Output frame for &quot;Preview one frame&quot;</source>
        <translation>“预览单帧”使用的输出帧</translation>
    </message>
    <message>
        <source>Preview one frame</source>
        <translation>预览单帧</translation>
    </message>
    <message>
        <source>Render only this frame of the selected job with the current settings</source>
        <translation>用当前设置只渲染选中任务的这一帧</translation>
    </message>
    <message>
        <source>Select a job to preview it</source>
        <translation>选择一个任务进行预览</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>同步前</translation>
    </message>
    <message>
        <source>After</source>
        <translation>同步后</translation>
    </message>
    <message>
        <source>{title}: cannot play: {error}</source>
        <translation>{title}：无法播放：{error}</translation>
    </message>
    <message>
        <source>Rendering…</source>
        <translation>渲染中…</translation>
    </message>
</context>
<context>
    <name>PreviewPresenter</name>
    <message>
        <source>Select a job to preview it</source>
        <translation>选择一个任务进行预览</translation>
    </message>
    <message>
        <source>starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>output file missing</source>
        <translation>输出文件不存在</translation>
    </message>
    <message>
        <source>Check this render: {coverage}. Frames without a face are left unchanged.</source>
        <translation>请检查这个成片：{coverage}。没有人脸的帧保持原样。</translation>
    </message>
    <message>
        <source>Rendering {video} + {audio}</source>
        <translation>正在渲染 {video} + {audio}</translation>
    </message>
    <message>
        <source>live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>live · frame {done} / {total}</source>
        <translation>实时 · 第 {done}/{total} 帧</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Select a job to preview one of its frames</source>
        <translation>先选择一个任务，再预览它的某一帧</translation>
    </message>
    <message>
        <source>{video} + {audio}: one frame, current settings</source>
        <translation>{video} + {audio}：单帧，当前设置</translation>
    </message>
    <message>
        <source>frame {n}</source>
        <translation>第 {n} 帧</translation>
    </message>
    <message>
        <source>no face found</source>
        <translation>未检测到人脸</translation>
    </message>
    <message>
        <source>Preview failed</source>
        <translation>预览失败</translation>
    </message>
</context>
<context>
    <name>QueueController</name>
    <message>
        <source>Another Lipsync Studio (pid {pid}) is running the queue; this window shows the jobs but does not render them</source>
        <translation>另一个 Lipsync Studio（进程 {pid}）正在运行队列；此窗口只显示任务，不进行渲染</translation>
    </message>
    <message>
        <source>Cannot render on the Ray cluster; the jobs wait in the queue</source>
        <translation>无法在 Ray 集群上渲染；任务留在队列中等待</translation>
    </message>
    <message>
        <source>The queue takes the new device settings when the running jobs end</source>
        <translation>正在渲染的任务结束后，队列将使用新的设备设置</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Ping-pong (forward, backward …)</source>
        <translation>来回播放（正放、倒放…）</translation>
    </message>
    <message>
        <source>Repeat from the start</source>
        <translation>从头循环</translation>
    </message>
    <message>
        <source>Automatic (hardware if it opens, else libx264)</source>
        <translation>自动（硬件编码器可用时使用，否则用 libx264）</translation>
    </message>
    <message>
        <source>libx264 (CPU)</source>
        <translation>libx264（CPU）</translation>
    </message>
    <message>
        <source>Off (CPU)</source>
        <translation>关闭（CPU 解码）</translation>
    </message>
    <message>
        <source>Automatic (GPU if it works)</source>
        <translation>自动（GPU 可用时使用）</translation>
    </message>
    <message>
        <source>Automatic (YuNet, built in)</source>
        <translation>自动（内置 YuNet）</translation>
    </message>
    <message>
        <source>OpenCV Haar (offline fallback)</source>
        <translation>OpenCV Haar（离线备用）</translation>
    </message>
    <message>
        <source>Mouth only</source>
        <translation>仅嘴部</translation>
    </message>
    <message>
        <source>Mouth, chin and jaw</source>
        <translation>嘴部、下巴和下颌</translation>
    </message>
    <message>
        <source>Automatic (best GPU, else CPU)</source>
        <translation>自动（优先用最好的 GPU，否则用 CPU）</translation>
    </message>
    <message>
        <source>Automatic (best installed, else draft)</source>
        <translation>自动（用已安装的最佳模型，否则用 draft）</translation>
    </message>
    <message>
        <source>draft — built in, no download</source>
        <translation>draft — 内置，无需下载</translation>
    </message>
    <message>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <source>non-commercial licence</source>
        <translation>非商业许可</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source> — non-commercial licence</source>
        <translation> — 非商业许可</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Open Models…</source>
        <translation>打开模型管理…</translation>
    </message>
    <message>
        <source>Applied the next time Lipsync Studio starts</source>
        <translation>下次启动 Lipsync Studio 时生效</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Fields: {video} {audio} (file names without extension), {index}. An existing name gets _2, _3 …</source>
        <translation>可用字段：{video} {audio}（不含扩展名的文件名）、{index}。重名时自动加 _2、_3 …</translation>
    </message>
    <message>
        <source>H.264 quality: lower is better and bigger; 18 looks lossless</source>
        <translation>H.264 画质：数值越小画质越好、文件越大；18 接近无损</translation>
    </message>
    <message>
        <source>A hardware encoder that cannot open on this machine falls back to libx264</source>
        <translation>本机无法使用的硬件编码器会自动改用 libx264</translation>
    </message>
    <message>
        <source>Decode presenter videos on the GPU; falls back to the CPU</source>
        <translation>用 GPU 解码口播视频；不可用时改用 CPU</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>A job with no new frame for this long is stopped and retried; loading a model on a cold GPU can take minutes</source>
        <translation>任务在这段时间内没有新画面就会被停止并重试；GPU 首次加载模型可能需要几分钟</translation>
    </message>
    <message>
        <source>Jobs rendering at once on each device (1 is best for a GPU)</source>
        <translation>每个设备同时渲染的任务数（GPU 建议设为 1）</translation>
    </message>
    <message>
        <source>Where the lip-sync result may change the face</source>
        <translation>口型同步结果可以改变面部的区域</translation>
    </message>
    <message>
        <source>How much of the mask fades out at its edge</source>
        <translation>遮罩边缘的渐隐程度</translation>
    </message>
    <message>
        <source>Restore the face after lip sync (inside the lip-sync area); download it in Models</source>
        <translation>口型同步后修复面部（仅在口型同步区域内）；请在“模型”中下载</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>Ray cluster (render farm)</source>
        <translation>Ray 集群（渲染农场）</translation>
    </message>
    <message>
        <source>auto, or HOST:PORT</source>
        <translation>auto，或 主机:端口</translation>
    </message>
    <message>
        <source>auto: the cluster `ray start` made on this computer. Inputs and outputs must be on storage every node sees, at the same path</source>
        <translation>auto：本机用 `ray start` 启动的集群。输入和输出文件必须放在每个节点都能访问的共享存储上，且路径相同</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Default model</source>
        <translation>默认模型</translation>
    </message>
    <message>
        <source>Face detector</source>
        <translation>人脸检测器</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>File name</source>
        <translation>文件名</translation>
    </message>
    <message>
        <source>Quality (CRF)</source>
        <translation>画质（CRF）</translation>
    </message>
    <message>
        <source>Encoder preset</source>
        <translation>编码预设</translation>
    </message>
    <message>
        <source>Video encoder</source>
        <translation>视频编码器</translation>
    </message>
    <message>
        <source>Hardware decoding</source>
        <translation>硬件解码</translation>
    </message>
    <message>
        <source>Short video</source>
        <translation>视频比音频短时</translation>
    </message>
    <message>
        <source>Lip-sync area</source>
        <translation>口型同步区域</translation>
    </message>
    <message>
        <source>Soft edge</source>
        <translation>柔化边缘</translation>
    </message>
    <message>
        <source>Face enhancer</source>
        <translation>面部增强</translation>
    </message>
    <message>
        <source>Stall timeout</source>
        <translation>卡住超时</translation>
    </message>
    <message>
        <source>Jobs per device</source>
        <translation>每个设备的任务数</translation>
    </message>
    <message>
        <source>Render on</source>
        <translation>渲染位置</translation>
    </message>
    <message>
        <source>Cluster address</source>
        <translation>集群地址</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>界面语言</translation>
    </message>
    <message>
        <source>{model} is not installed: new jobs would fail. Download or import it in Models first.</source>
        <translation>{model} 尚未安装：新任务会失败。请先在模型管理中下载或导入。</translation>
    </message>
</context>
</TS>
