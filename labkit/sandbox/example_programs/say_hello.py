# 说你好：在屏幕上打招呼，再让小盒子说出来。
# Say hello: greet on the screen, then the kit says it out loud.
from labkit.program import say

name = "同学"                      # 改成你的名字 / put your name here
print("你好，" + name + "！ Hello!")
say("你好，" + name)               # 小盒子的喇叭说话 / the kit's speaker talks
print("done / 完成")
